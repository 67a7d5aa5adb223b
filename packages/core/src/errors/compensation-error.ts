import { WeftError, brandOf } from './weft-error.js';

/**
 * A saga step failed and one or more compensations failed too.
 * `cause` is the original error; `errors` every compensation failure, in the order they ran.
 *
 * @example
 * ```ts
 * catch (e) { if (isCompensationError(e)) alertOnCall(e.errors) }
 * ```
 */
export class CompensationError extends WeftError {
  override name = 'CompensationError';
  readonly errors: ReadonlyArray<unknown>;
  constructor(original: unknown, errors: ReadonlyArray<unknown>) {
    super(`${errors.length} compensation${errors.length === 1 ? '' : 's'} failed after: ${original instanceof Error ? original.message : String(original)}`, {
      code: 'COMPENSATION_FAILED',
      cause: original,
    });
    this.errors = errors;
  }
}

/** True when the value is a {@link CompensationError} from any copy of Weft. */
export function isCompensationError(value: unknown): value is CompensationError {
  return brandOf(value) === 'COMPENSATION_FAILED';
}
