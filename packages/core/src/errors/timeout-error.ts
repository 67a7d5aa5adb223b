import { WeftError, brandOf } from './weft-error.js';

/**
 * A timeout or deadline expired before the work settled.
 *
 * @example
 * ```ts
 * catch (e) { if (isTimeoutError(e)) console.log(`gave up after ${e.timeoutMs} ms`) }
 * ```
 */
export class TimeoutError extends WeftError {
  override name = 'TimeoutError';
  /** The budget that expired, in milliseconds. */
  readonly timeoutMs: number;
  constructor(timeoutMs: number, message = `Timed out after ${timeoutMs} ms`) {
    super(message, { code: 'TIMEOUT' });
    this.timeoutMs = timeoutMs;
  }
}

/** True when the value is a {@link TimeoutError} from any copy of Weft. */
export function isTimeoutError(value: unknown): value is TimeoutError {
  return brandOf(value) === 'TIMEOUT';
}
