/** A never-throwing no-op, for promises whose outcome is deliberately ignored. */
export function noop(): void {}

/** The largest delay setTimeout honours. */
export const MAX_TIMER = 2_147_483_647;
