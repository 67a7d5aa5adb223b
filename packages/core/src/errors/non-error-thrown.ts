import { WeftError, brandOf } from './weft-error.js';

/**
 * Something that is not an `Error` was thrown; `value` holds it.
 *
 * @example
 * ```ts
 * toError('boom') // NonErrorThrown { message: 'Non-error thrown: "boom"' }
 * ```
 */
export class NonErrorThrown extends WeftError {
  override name = 'NonErrorThrown';
  readonly value: unknown;
  constructor(value: unknown) {
    let shown: string;
    try {
      shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 200)) : String(JSON.stringify(value) ?? value).slice(0, 200);
    } catch {
      shown = Object.prototype.toString.call(value);
    }
    super(`Non-error thrown: ${shown}`, { code: 'NON_ERROR_THROWN' });
    this.value = value;
  }
}

/** True when the value is a {@link NonErrorThrown} from any copy of Weft. */
export function isNonErrorThrown(value: unknown): value is NonErrorThrown {
  return brandOf(value) === 'NON_ERROR_THROWN';
}

/** Returns the value when it is an Error, or wraps it into a {@link NonErrorThrown}. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new NonErrorThrown(value);
}
