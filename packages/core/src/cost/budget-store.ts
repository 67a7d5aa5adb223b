/**
 * A store's answer to {@link BudgetStore.tryCharge}.
 *
 * @example
 * ```ts
 * const denied: BudgetCharge = { allowed: false, spent: 10_200_000_000 }; // $10.20 in nano-units
 * ```
 */
export interface BudgetCharge {
  /** Whether the amount was charged. */
  readonly allowed: boolean;
  /** The spend in the window after the call: including the amount when allowed, without it when not. */
  readonly spent: number;
}

/**
 * Where rolling-window budgets keep their spend, one tally per key (the budget's name). The
 * default, {@link LocalBudgetStore}, keeps it in memory and answers synchronously; a shared store
 * (Redis, with a Lua script) keeps one tally per key across processes and answers with promises.
 * Every store implements the same rules:
 *
 * - **Spend** in the window at `now` is the sum of the amounts charged at times `t` with
 *   `now - windowMs < t <= now`. A store may round `t` down to buckets, but then a charge must
 *   count for at least `windowMs` (it may expire up to one bucket late, never early). A sum below
 *   0 (after refunds) counts as 0.
 * - **tryCharge** is atomic: if `spent < limit && spent + amount <= limit`, it adds `amount` at
 *   time `now` and answers `{ allowed: true, spent: spent + amount }`; otherwise it adds nothing
 *   and answers `{ allowed: false, spent }`. So an exhausted budget (spent >= limit) refuses even
 *   an amount of 0.
 * - **charge** adds `amount` (negative to refund) unconditionally at time `at` (the time of the
 *   reservation it corrects, so the correction expires together with it) and answers the spend at
 *   `now`. A charge at a time already out of the window may be dropped.
 *
 * **Amounts are integer nano-units** of the budget's currency (1e-9 of a unit: $0.30 is
 * 300,000,000), so a store adds and compares them exactly (Redis `HINCRBY`, not `HINCRBYFLOAT`);
 * `spent` answers are integers too. All callers of a key should pass the same
 * `windowMs`. A store may use its own clock instead of `now` (a Redis store may use `TIME`), but
 * then every caller of that store must. A store that throws, rejects or is slower than the
 * budget's `storeTimeoutMs` fails the call closed (or open with `failOpen: true`).
 *
 * @example
 * ```ts
 * const logging: BudgetStore = {
 *   tryCharge: (key, amount, limit, windowMs, now) => local.tryCharge(key, amount, limit, windowMs, now),
 *   charge: (key, amount, windowMs, at, now) => local.charge(key, amount, windowMs, at, now),
 *   spent: (key, windowMs, now) => local.spent(key, windowMs, now),
 * };
 * ```
 */
export interface BudgetStore {
  /**
   * Charges `amount` to `key` if the budget allows it, atomically.
   * @param key the budget's name.
   * @param amount the amount to reserve (the call's estimate); may be 0.
   * @param limit the budget's limit over the window.
   * @param windowMs the rolling window's length.
   * @param now the caller's clock, in epoch milliseconds.
   */
  tryCharge(key: string, amount: number, limit: number, windowMs: number, now: number): BudgetCharge | Promise<BudgetCharge>;
  /**
   * Adds `amount` (negative to refund) to `key`, attributed to time `at`; answers the spend at `now`.
   * @param at when the charge counts from: the reservation's `now`.
   */
  charge(key: string, amount: number, windowMs: number, at: number, now: number): number | Promise<number>;
  /** The spend of `key` in the window ending at `now`. */
  spent(key: string, windowMs: number, now: number): number | Promise<number>;
}
