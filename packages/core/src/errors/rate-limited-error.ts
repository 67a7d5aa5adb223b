import { WeftError, brandOf } from './weft-error.js';

/**
 * The rate limit had no token for this call. `retryAfter` is in milliseconds.
 *
 * @example
 * ```ts
 * catch (e) { if (isRateLimitedError(e)) reply.header('retry-after', Math.ceil(e.retryAfter / 1000)) }
 * ```
 */
export class RateLimitedError extends WeftError {
  override name = 'RateLimitedError';
  /** Milliseconds until a token is expected to be available. Also a retry hint for `retry()`. */
  readonly retryAfter: number;
  constructor(retryAfter: number, message = `Rate limited; retry after ${Math.ceil(retryAfter)} ms`) {
    super(message, { code: 'RATE_LIMITED' });
    this.retryAfter = retryAfter;
  }
}

/** True when the value is a {@link RateLimitedError} from any copy of Weft. */
export function isRateLimitedError(value: unknown): value is RateLimitedError {
  return brandOf(value) === 'RATE_LIMITED';
}
