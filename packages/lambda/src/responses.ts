import { isAbortedError, isBudgetExceededError, isBulkheadRejectedError, isCircuitOpenError, isRateLimitedError, isTimeoutError, isValidationError } from '@weft/core';

/** An error as a client sees it: a status, a typed code and a generic message, never internal text. */
export interface ErrorResponse {
  readonly status: number;
  /** A machine-readable code, e.g. `invalid_request`. */
  readonly error: string;
  readonly message: string;
  /** Extra response headers (`retry-after`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra body fields (zod issues of a bad request). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Maps a typed Weft error to the status the gateway answers it with: a validation error 400 with
 * the zod-derived issues, a rate limit 429 with `retry-after`, a spent budget 402 (503 when its
 * store was unreachable), an open breaker or full bulkhead 503, a timeout or the invocation's
 * deadline 504, anything else 503 with a generic message. The error's own text (which may carry an
 * upstream's words) is never returned.
 *
 * @example
 * ```ts
 * errorResponse(new TimeoutError(1_000)).status; // 504
 * ```
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (isValidationError(error)) {
    return { status: 400, error: 'invalid_request', message: error.message, headers: {}, details: { issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) } };
  }
  if (isRateLimitedError(error)) {
    const seconds = Math.max(1, Math.ceil(error.retryAfter / 1000));
    return { status: 429, error: 'rate_limited', message: `Rate limit exceeded; retry after ${seconds} s.`, headers: { 'retry-after': String(seconds) } };
  }
  if (isBudgetExceededError(error)) {
    if (Number.isNaN(error.spent)) return { status: 503, error: 'budget_unavailable', message: 'The budget store could not be reached, so the request was refused; try again shortly.', headers: {} };
    return { status: 402, error: 'budget_exhausted', message: 'The budget for this request is exhausted; retry later.', headers: {} };
  }
  if (isCircuitOpenError(error) || isBulkheadRejectedError(error)) return { status: 503, error: 'unavailable', message: 'A dependency is unavailable; try again shortly.', headers: { 'retry-after': '1' } };
  if (isTimeoutError(error) || isAbortedError(error)) return { status: 504, error: 'timeout', message: 'No answer within the deadline.', headers: {} };
  return { status: 503, error: 'unavailable', message: 'The request could not be completed; try again shortly.', headers: {} };
}
