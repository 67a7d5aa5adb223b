import { WeftError, brandOf } from './weft-error.js';

/**
 * A stream failed after it had delivered chunks. It is never retried or answered by a fallback:
 * the consumer has already shown those chunks, and repeating the stream would repeat them. `cause`
 * is the failure; `chunks` is how many were delivered before it.
 *
 * @example
 * ```ts
 * catch (e) { if (isStreamInterruptedError(e)) res.write(`\n[interrupted after ${e.chunks} chunks]`) }
 * ```
 */
export class StreamInterruptedError extends WeftError {
  override name = 'StreamInterruptedError';
  constructor(
    readonly chunks: number,
    cause: unknown,
  ) {
    super(`The stream failed after ${chunks} chunk${chunks === 1 ? '' : 's'}: ${cause instanceof Error ? cause.message : String(cause)}`, { code: 'STREAM_INTERRUPTED', cause });
  }
}

/** True when the value is a {@link StreamInterruptedError} from any copy of Weft. */
export function isStreamInterruptedError(value: unknown): value is StreamInterruptedError {
  return brandOf(value) === 'STREAM_INTERRUPTED';
}
