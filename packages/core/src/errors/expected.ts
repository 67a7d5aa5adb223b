import { brandOf } from './weft-error.js';

/**
 * How a run ended, as operators count it:
 * - `succeeded`: it returned a value;
 * - `rejected`: it ended with an expected error, the caller's fault or a business decision (bad
 *   input, a spent budget, a rate limit, a declined card): a refusal working as designed;
 * - `failed`: it ended with any other error, a fault of the service or of what it depends on.
 *
 * Error ratios and paging alerts count `failed`; latency objectives use `succeeded` runs.
 */
export type RunOutcome = 'succeeded' | 'rejected' | 'failed';

/**
 * Whether an error is expected: a refusal by design rather than a fault. True for Weft's
 * `ValidationError`, `RateLimitedError` and `BudgetExceededError` (recognised by their brand, so
 * from any installed copy of Weft), and for any error that declares itself expected with an
 * `expected: true` property (see {@link markExpected}). Only the error itself is read, never its
 * `cause`: a retry that gave up on a rate-limited dependency is a failure of the service.
 *
 * @example
 * ```ts
 * class CardDeclined extends Error { readonly expected = true }
 * isExpectedError(new CardDeclined('declined')); // true
 * isExpectedError(new Error('ECONNRESET')); // false
 * ```
 */
export function isExpectedError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { expected?: unknown }).expected === true) return true;
  const code = brandOf(error);
  return code === 'VALIDATION' || code === 'RATE_LIMITED' || code === 'BUDGET_EXCEEDED';
}

/**
 * Declares an error expected (sets `expected: true` on it) and returns it, for errors whose class
 * you do not own.
 *
 * @example
 * ```ts
 * if (response.status === 402) throw markExpected(new Error('The card was declined.'));
 * ```
 */
export function markExpected<E extends Error>(error: E): E {
  Object.defineProperty(error, 'expected', { value: true, enumerable: true, configurable: true, writable: true });
  return error;
}

/**
 * The {@link RunOutcome} of a run that ended with `error`, or `succeeded` when it returned.
 *
 * @example
 * ```ts
 * runOutcome(); // 'succeeded'
 * runOutcome(new BudgetExceededError(...)); // 'rejected'
 * runOutcome(new TimeoutError(1_000)); // 'failed'
 * ```
 */
export function runOutcome(...ended: [] | [error: unknown]): RunOutcome {
  if (ended.length === 0) return 'succeeded';
  return isExpectedError(ended[0]) ? 'rejected' : 'failed';
}
