/** Brand symbol shared across copies of the package through the global symbol registry. */
const BRAND = Symbol.for('weft.error');

/** Every error code Weft raises. */
export type WeftErrorCode =
  | 'WEFT_ERROR'
  | 'VALIDATION'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'RETRY_EXHAUSTED'
  | 'FALLBACK_EXHAUSTED'
  | 'CIRCUIT_OPEN'
  | 'BULKHEAD_REJECTED'
  | 'RATE_LIMITED'
  | 'CHAOS_FAULT'
  | 'ROUTE_NOT_FOUND'
  | 'BUDGET_EXCEEDED'
  | 'COMPENSATION_FAILED'
  | 'SAGA_CONFLICT'
  | 'STREAM_INTERRUPTED'
  | 'NON_ERROR_THROWN';

/**
 * Base class of every error Weft raises.
 *
 * @example
 * ```ts
 * try { await flow.run(input) } catch (e) { if (isWeftError(e)) console.log(e.code) }
 * ```
 */
export class WeftError extends Error {
  override name = 'WeftError';
  readonly code: WeftErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: WeftErrorCode }) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = options?.code ?? 'WEFT_ERROR';
    Object.defineProperty(this, BRAND, { value: this.code, enumerable: false });
  }
}

/** @internal Reads the brand code of a value, or undefined when it is not a Weft error. */
export function brandOf(value: unknown): WeftErrorCode | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const code = (value as Record<symbol, unknown>)[BRAND];
  return typeof code === 'string' ? (code as WeftErrorCode) : undefined;
}

/** True for any error raised by any copy of Weft. */
export function isWeftError(value: unknown): value is WeftError {
  return brandOf(value) !== undefined;
}
