import { isAbortedError } from './aborted-error.js';
import { brandOf } from './weft-error.js';

/**
 * How an error should be treated by what retries or re-routes it:
 * - `abort`: the caller or the run gave up (an abort, a cancelled sibling). Never retried.
 * - `permanent`: trying again cannot help (bad input, no budget left, a breaker held open by hand,
 *   no route for the key, a compensation that failed, retries already spent inside). Not retried.
 * - `throttled`: refused for now, often with a time to wait (`retryAfterMs`). Retried after that wait.
 * - `transient`: anything else, including timeouts and errors Weft does not know. Retried with backoff.
 */
export type ErrorClass = 'abort' | 'permanent' | 'throttled' | 'transient';

/** What {@link classifyError} says about one error. */
export interface ErrorClassification {
  readonly class: ErrorClass;
  /** Whether a retry can help: `throttled` and `transient`. */
  readonly retryable: boolean;
  /** For `throttled`: the wait the error itself asks for, in ms, when it says. */
  readonly retryAfterMs?: number;
}

const ABORT: ErrorClassification = Object.freeze({ class: 'abort', retryable: false });
const PERMANENT: ErrorClassification = Object.freeze({ class: 'permanent', retryable: false });
const TRANSIENT: ErrorClassification = Object.freeze({ class: 'transient', retryable: true });

/**
 * Classifies an error the way `retry()` does by default. The one table every Weft primitive follows:
 *
 * | error | class | retried by default |
 * |---|---|---|
 * | `AbortedError`, a DOM `AbortError` | abort | never |
 * | `ValidationError` | permanent | never |
 * | `BudgetExceededError` | permanent | no |
 * | `CircuitOpenError` with state `isolated` | permanent | no |
 * | `RouteNotFoundError` | permanent | no |
 * | `CompensationError` | permanent | no |
 * | `SagaConflictError` (the execution ID exists) | permanent | no |
 * | `StreamInterruptedError` (chunks were delivered) | permanent | no |
 * | `RetryExhaustedError` (an inner retry gave up) | permanent | no |
 * | `CircuitOpenError` (open, half-open) | throttled | yes, after its `retryAfterMs` |
 * | `RateLimitedError` | throttled | yes, after its `retryAfter` |
 * | `BulkheadRejectedError` | throttled | yes, with backoff |
 * | `TimeoutError`, `FallbackError`, `ChaosError`, `NonErrorThrown`, any other error | transient | yes, with backoff |
 *
 * Errors are recognised by their brand (`code`), so errors from another installed copy of Weft
 * are classified the same.
 *
 * @example
 * ```ts
 * const { class: kind, retryAfterMs } = classifyError(error);
 * if (kind === 'throttled') reply.header('retry-after', Math.ceil((retryAfterMs ?? 1_000) / 1_000));
 * ```
 */
export function classifyError(error: unknown): ErrorClassification {
  if (isAbortedError(error)) return ABORT;
  switch (brandOf(error)) {
    case 'VALIDATION':
    case 'BUDGET_EXCEEDED':
    case 'ROUTE_NOT_FOUND':
    case 'COMPENSATION_FAILED':
    case 'SAGA_CONFLICT':
    case 'STREAM_INTERRUPTED':
    case 'RETRY_EXHAUSTED':
      return PERMANENT;
    case 'CIRCUIT_OPEN': {
      const e = error as { state?: unknown; retryAfterMs?: unknown };
      if (e.state === 'isolated') return PERMANENT;
      return throttled(e.retryAfterMs);
    }
    case 'RATE_LIMITED':
      return throttled((error as { retryAfter?: unknown }).retryAfter);
    case 'BULKHEAD_REJECTED':
      return throttled(undefined);
    default:
      return TRANSIENT;
  }
}

function throttled(wait: unknown): ErrorClassification {
  return typeof wait === 'number' && wait >= 0 && Number.isFinite(wait)
    ? Object.freeze({ class: 'throttled', retryable: true, retryAfterMs: wait })
    : Object.freeze({ class: 'throttled', retryable: true });
}
