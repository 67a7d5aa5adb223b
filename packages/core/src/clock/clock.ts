import { shapeOf } from '../internal/validate-options.js';

/** What a {@link Clock}'s `setTimeout` returns (a Node `Timeout`, or a number in fake clocks); only ever passed back to its `clearTimeout`. */
export type TimerHandle = object | number;

/**
 * The time source of every time-based Weft primitive: retry sleeps, timeouts, the breaker's open
 * time, rate-limit refill, hedge delays, bulkhead queue deadlines, cache TTLs and budget windows.
 * Inject one per primitive (the `clock` option) or for the whole process with {@link useClock};
 * `@weft/testing`'s `testClock()` is one built on @sinonjs/fake-timers.
 */
export interface Clock {
  /** The current time, in epoch milliseconds. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer made by this clock's `setTimeout`. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: `Date.now()` and Node's timers, looked up on each call, so test runners' fake
 * timers that replace the globals (vitest's `vi.useFakeTimers()`, Jest's) drive it too.
 *
 * @example
 * ```ts
 * import { systemClock } from '@weft/core';
 * const started = systemClock.now();
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle => setTimeout(callback, ms),
  clearTimeout: (handle: TimerHandle): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

const KEY = Symbol.for('weft.clock.v1');
const slot = globalThis as { [KEY]?: Clock };

/**
 * The process-wide default clock: the one passed to {@link useClock}, else {@link systemClock}.
 * Primitives without a `clock` option read it on every call, so installing a clock also drives
 * primitives built before it. Shared by every installed copy of `@weft/core`.
 *
 * @example
 * ```ts
 * import { currentClock } from '@weft/core';
 * const deadline = currentClock().now() + 5_000;
 * ```
 */
export function currentClock(): Clock {
  return slot[KEY] ?? systemClock;
}

/**
 * Makes `clock` the process-wide default clock (see {@link currentClock}) until the returned
 * function is called, which restores the previous one.
 *
 * @example
 * ```ts
 * import { useClock, type Clock } from '@weft/core';
 * declare const fake: Clock;
 * const restore = useClock(fake);
 * try {
 *   // runs here sleep, time out and expire on `fake`
 * } finally {
 *   restore();
 * }
 * ```
 */
export function useClock(clock: Clock): () => void {
  checkClock('clock', clock);
  const previous = slot[KEY];
  slot[KEY] = clock;
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    if (previous === undefined) delete slot[KEY];
    else slot[KEY] = previous;
  };
}

/** @internal Validates a `clock` option; returns it, or undefined when absent (use {@link currentClock}). */
export function checkClock(option: string, value: unknown): Clock | undefined {
  if (value === undefined) return undefined;
  const c = shapeOf<Clock>(value);
  if (c === undefined || typeof c.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') {
    throw new TypeError(`Expected \`${option}\` to be a clock with now(), setTimeout() and clearTimeout(), got ${value === null ? 'null' : typeof value}`);
  }
  return value as Clock;
}

/** @internal Lets a timer not keep the process alive, when the clock's handles support it (Node's do). */
export function unrefTimer(handle: TimerHandle): void {
  const h = handle as { unref?: () => unknown } | null;
  if (typeof h === 'object' && h !== null && typeof h.unref === 'function') h.unref();
}

/**
 * @internal A time for measuring durations: `performance.now()` (sub-millisecond, monotonic) under
 * the system clock, the installed clock's `now()` under any other, so a test clock makes event
 * durations deterministic too.
 */
export function durationNow(): number {
  const clock = slot[KEY];
  return clock === undefined || clock === systemClock ? performance.now() : clock.now();
}
