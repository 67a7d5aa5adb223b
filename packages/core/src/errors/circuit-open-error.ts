import { WeftError, brandOf } from './weft-error.js';

/** Which refusing state a {@link CircuitOpenError} comes from. */
export type CircuitRefusingState = 'open' | 'half-open' | 'isolated';

/**
 * What a breaker knew when it refused a call, for {@link CircuitOpenError}.
 *
 * @example
 * ```ts
 * const details: CircuitOpenDetails = { state: 'open', retryAfterMs: 4_200, failures: 5 };
 * ```
 */
export interface CircuitOpenDetails {
  /** `open` (waiting out its open time), `half-open` (its probes are taken) or `isolated` (held open by hand). */
  readonly state: CircuitRefusingState;
  /** Milliseconds until the breaker admits a probe; undefined when isolated (unknown). */
  readonly retryAfterMs?: number | undefined;
  /** Failures counted when the breaker last opened (in a row, or in the window in ratio mode). */
  readonly failures?: number | undefined;
  /** Half-open: the probes in flight, and how many it admits at once. */
  readonly probes?: { readonly inFlight: number; readonly max: number } | undefined;
  /** The failure that last opened the breaker. */
  readonly lastFailure?: Error | undefined;
}

/**
 * The circuit breaker refused the call: it is open, isolated, or half-open with its probes taken.
 * It says which, how long until a probe is admitted (`retryAfterMs`, also read by `retry()` as the
 * wait before trying again), how many failures opened it, and the last of them as `cause`.
 *
 * @example
 * ```ts
 * catch (e) {
 *   if (isCircuitOpenError(e)) log.warn(`${e.breaker} is ${e.state}; retry in ${e.retryAfterMs} ms`, { cause: e.cause });
 * }
 * ```
 */
export class CircuitOpenError extends WeftError {
  override name = 'CircuitOpenError';
  /** The breaker's name. */
  readonly breaker: string;
  /** Which refusing state the breaker was in. */
  readonly state: CircuitRefusingState;
  /** Milliseconds until the breaker will admit a probe, when known. */
  readonly retryAfterMs: number | undefined;
  /** Failures counted when the breaker last opened. */
  readonly failures: number | undefined;
  /** Half-open: probes in flight and the most admitted at once. */
  readonly probes: { readonly inFlight: number; readonly max: number } | undefined;

  constructor(breaker: string, details?: CircuitOpenDetails | number) {
    const d: CircuitOpenDetails = typeof details === 'number' ? { state: 'open', retryAfterMs: details } : (details ?? { state: 'open' });
    super(describe(breaker, d), { code: 'CIRCUIT_OPEN', ...(d.lastFailure === undefined ? {} : { cause: d.lastFailure }) });
    this.breaker = breaker;
    this.state = d.state;
    this.retryAfterMs = d.retryAfterMs;
    this.failures = d.failures;
    this.probes = d.probes;
  }

  /** The same as `retryAfterMs`: the name `retry()` and HTTP-minded code look for. */
  get retryAfter(): number | undefined {
    return this.retryAfterMs;
  }
}

function describe(breaker: string, d: CircuitOpenDetails): string {
  const after = d.failures === undefined ? '' : ` after ${d.failures} failure${d.failures === 1 ? '' : 's'}`;
  const wait = d.retryAfterMs === undefined ? '' : `; a probe is admitted in ${Math.ceil(d.retryAfterMs)} ms`;
  if (d.state === 'isolated') return `Circuit "${breaker}" is isolated (held open by hand)`;
  if (d.state === 'half-open') {
    const p = d.probes;
    return `Circuit "${breaker}" is half-open${p === undefined ? '' : ` with ${p.inFlight} of ${p.max} probe${p.max === 1 ? '' : 's'} in flight`}${wait}`;
  }
  return `Circuit "${breaker}" is open${after}${wait}`;
}

/** True when the value is a {@link CircuitOpenError} from any copy of Weft. */
export function isCircuitOpenError(value: unknown): value is CircuitOpenError {
  return brandOf(value) === 'CIRCUIT_OPEN';
}
