import { WeftError, brandOf } from './weft-error.js';

/**
 * Who cancelled the work: the `caller` (its signal, or the run's deadline), a `hedge` whose other
 * attempt won, a failed `sibling` (a parallel branch, a failed hedged attempt), or the stream's
 * `consumer` that stopped reading. Telemetry tells a lost hedge from a client that gave up with it.
 */
export type AbortSource = 'caller' | 'hedge' | 'sibling' | 'consumer';

/**
 * The run was cancelled: the caller aborted its signal, or a sibling failed. Never retried.
 * `cause` holds the abort reason; `by` says who cancelled.
 *
 * @example
 * ```ts
 * catch (e) { if (isAbortedError(e)) return }
 * ```
 */
export class AbortedError extends WeftError {
  override name = 'AbortedError';
  /** Who cancelled the work. */
  readonly by: AbortSource;
  constructor(reason?: unknown, message = 'The run was aborted', by: AbortSource = 'caller') {
    super(message, { code: 'ABORTED', cause: reason });
    this.by = by;
  }
}

/** True when the value is an {@link AbortedError} from any copy of Weft, or a DOM `AbortError`. */
export function isAbortedError(value: unknown): value is AbortedError {
  return brandOf(value) === 'ABORTED' || (value instanceof Error && value.name === 'AbortError');
}
