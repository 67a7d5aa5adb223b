import { WeftError, brandOf } from './weft-error.js';

/**
 * The circuit breaker is open (or half-open with its probes taken) and rejected the call.
 *
 * @example
 * ```ts
 * catch (e) { if (isCircuitOpenError(e)) console.log(`retry in ${e.retryAfterMs} ms`) }
 * ```
 */
export class CircuitOpenError extends WeftError {
  override name = 'CircuitOpenError';
  /** Milliseconds until the breaker will admit a probe, when known. */
  readonly retryAfterMs: number | undefined;
  constructor(breaker: string, retryAfterMs?: number) {
    super(`Circuit "${breaker}" is open`, { code: 'CIRCUIT_OPEN' });
    this.retryAfterMs = retryAfterMs;
  }
}

/** True when the value is a {@link CircuitOpenError} from any copy of Weft. */
export function isCircuitOpenError(value: unknown): value is CircuitOpenError {
  return brandOf(value) === 'CIRCUIT_OPEN';
}
