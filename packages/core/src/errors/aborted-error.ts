import { WeftError, brandOf } from './weft-error.js';

/**
 * The run was cancelled: the caller aborted its signal, or a sibling failed. Never retried.
 * `cause` holds the abort reason.
 *
 * @example
 * ```ts
 * catch (e) { if (isAbortedError(e)) return }
 * ```
 */
export class AbortedError extends WeftError {
  override name = 'AbortedError';
  constructor(reason?: unknown, message = 'The run was aborted') {
    super(message, { code: 'ABORTED', cause: reason });
  }
}

/** True when the value is an {@link AbortedError} from any copy of Weft, or a DOM `AbortError`. */
export function isAbortedError(value: unknown): value is AbortedError {
  return brandOf(value) === 'ABORTED' || (value instanceof Error && value.name === 'AbortError');
}
