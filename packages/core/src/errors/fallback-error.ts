import { WeftError, brandOf } from './weft-error.js';

/**
 * The primary and every alternative failed. `errors` holds every cause in order, primary first.
 *
 * @example
 * ```ts
 * catch (e) { if (isFallbackError(e)) e.errors.forEach((err) => console.log(err)) }
 * ```
 */
export class FallbackError extends WeftError {
  override name = 'FallbackError';
  readonly errors: ReadonlyArray<unknown>;
  constructor(errors: ReadonlyArray<unknown>) {
    super(`The primary and all ${errors.length - 1} alternatives failed`, { code: 'FALLBACK_EXHAUSTED', cause: errors[errors.length - 1] });
    this.errors = errors;
  }
}

/** True when the value is a {@link FallbackError} from any copy of Weft. */
export function isFallbackError(value: unknown): value is FallbackError {
  return brandOf(value) === 'FALLBACK_EXHAUSTED';
}
