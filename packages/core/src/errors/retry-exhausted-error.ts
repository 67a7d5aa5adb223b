import { WeftError, brandOf } from './weft-error.js';

/**
 * Every attempt failed. `cause` is the last error; `attempts` the count.
 *
 * @example
 * ```ts
 * catch (e) { if (isRetryExhaustedError(e)) console.log(e.attempts, e.cause) }
 * ```
 */
export class RetryExhaustedError extends WeftError {
  override name = 'RetryExhaustedError';
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(`Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      code: 'RETRY_EXHAUSTED',
      cause,
    });
    this.attempts = attempts;
  }
}

/** True when the value is a {@link RetryExhaustedError} from any copy of Weft. */
export function isRetryExhaustedError(value: unknown): value is RetryExhaustedError {
  return brandOf(value) === 'RETRY_EXHAUSTED';
}
