import { isTimeoutError } from '../errors/timeout-error.js';
import { CircuitOpenError } from '../errors/circuit-open-error.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { isValidationError } from '../errors/validation-error.js';
import { hub } from '../internal/event-hub.js';
import type { CircuitState, WeftEvent } from '../events/event-types.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { fail, number, oneOf, optionalFunction, optionsObject, primitiveName } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import { RollingWindow } from './rolling-window.js';

/** How a {@link CircuitBreaker} decides to open. */
export type CircuitBreakerMode = 'consecutive' | 'ratio';

/**
 * How the open duration grows while a breaker keeps re-opening (a failed probe). It resets when
 * the breaker closes.
 *
 * @example
 * ```ts
 * new CircuitBreaker({ openMs: 5_000, backoff: { factor: 2, maxMs: 60_000 } }); // 5 s, 10 s, 20 s, 40 s, 60 s, ...
 * ```
 */
export interface CircuitBreakerBackoff {
  /** Each re-open lasts `factor` times the previous one. @default 2 */
  readonly factor?: number;
  /** Cap on the open duration, in ms. @default 300_000 */
  readonly maxMs?: number;
}

/**
 * Options for {@link CircuitBreaker} and {@link circuitBreaker}.
 *
 * @example
 * ```ts
 * const options: CircuitBreakerOptions = { mode: 'ratio', threshold: 0.5, windowMs: 10_000, minThroughput: 10, slowCallMs: 2_000 };
 * ```
 */
export interface CircuitBreakerOptions {
  /** The breaker's name, for events, errors and metric labels. @default the wrapped primitive's name, or `"circuit-breaker"` for a standalone instance */
  readonly name?: string;
  /**
   * `'consecutive'` opens after `threshold` failures in a row; `'ratio'` opens when the share of
   * failures over the last `windowMs` reaches `threshold`, once at least `minThroughput` calls were seen.
   * @default 'consecutive'
   */
  readonly mode?: CircuitBreakerMode;
  /**
   * In `'consecutive'` mode, the number of failures in a row (an integer >= 1); in `'ratio'` mode,
   * the failure ratio in (0, 1].
   * @default 5 in 'consecutive' mode, 0.5 in 'ratio' mode
   */
  readonly threshold?: number;
  /** `'ratio'` mode: length of the sliding window, in ms. @default 10_000 */
  readonly windowMs?: number;
  /** `'ratio'` mode: number of buckets the window slides by. @default 10 */
  readonly buckets?: number;
  /** `'ratio'` mode: calls the window must hold before the ratio can open the breaker. @default 10 */
  readonly minThroughput?: number;
  /** A call that succeeds but takes longer than this many ms counts as a failure. @default Infinity (off) */
  readonly slowCallMs?: number;
  /** How long the breaker stays open before admitting probes, in ms. @default 10_000 */
  readonly openMs?: number;
  /** Grow the open duration on each re-open; see {@link CircuitBreakerBackoff}. @default none: every open lasts `openMs` */
  readonly backoff?: CircuitBreakerBackoff;
  /** How many probe calls the half-open breaker admits at once; the rest are rejected. @default 1 */
  readonly halfOpenProbes?: number;
  /**
   * Which errors count as failures. An error it rejects neither counts as a failure nor as a
   * success. Aborts of the caller never count, whatever this says.
   * @default every error except `ValidationError` and aborts (`AbortedError`, DOM `AbortError`)
   */
  readonly failureOn?: (error: Error) => boolean;
  /** The clock, in ms. Read lazily: there are no timers. @default () => Date.now() (so fake timers work) */
  readonly now?: () => number;
}

/**
 * A breaker, or options to build a new one, for {@link circuitBreaker}.
 *
 * @example
 * ```ts
 * const shared = new CircuitBreaker({ name: 'payments' });
 * const arg: CircuitBreakerArg = shared; // or { threshold: 3 }
 * ```
 */
export type CircuitBreakerArg = CircuitBreakerOptions | CircuitBreaker;

/**
 * A state transition, as {@link CircuitBreaker.onStateChange} reports it.
 *
 * @example
 * ```ts
 * breaker.onStateChange((c: CircuitStateChange) => console.log(`${c.breaker}: ${c.from} -> ${c.to}`));
 * ```
 */
export interface CircuitStateChange {
  readonly breaker: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
}

/**
 * A breaker's state as plain JSON, from {@link CircuitBreaker.toJSON}. Times are epoch ms of the
 * breaker's clock. Probes in flight are not saved: a restored half-open breaker admits fresh probes.
 *
 * @example
 * ```ts
 * await store.set('breaker:payments', JSON.stringify(breaker));
 * const restored = CircuitBreaker.fromJSON(JSON.parse(await store.get('breaker:payments')));
 * ```
 */
export interface CircuitBreakerSnapshot {
  readonly version: 1;
  readonly name: string;
  readonly state: CircuitState;
  /** When the open breaker admits probes (epoch ms); present when `state` is `'open'`. */
  readonly openUntil?: number;
  /** Opens since the breaker last closed; drives the backoff of the open duration. */
  readonly opens: number;
  /** Failures in a row (`'consecutive'` mode). */
  readonly failures: number;
  /** The sliding window's buckets (`'ratio'` mode). */
  readonly window?: { readonly index: number; readonly calls: readonly number[]; readonly failures: readonly number[] };
}

/**
 * A manual isolation from {@link CircuitBreaker.isolate}. The breaker stays isolated until every
 * handle is released, or until `reset()`.
 *
 * @example
 * ```ts
 * const handle = breaker.isolate();
 * // ... maintenance ...
 * handle.release();
 * ```
 */
export interface IsolationHandle {
  /** Ends this isolation; idempotent. The breaker closes when no isolation remains. */
  release(): void;
}

const DEFAULTS = {
  name: 'circuit-breaker',
  mode: 'consecutive',
  threshold: 5,
  windowMs: 10_000,
  buckets: 10,
  minThroughput: 10,
  slowCallMs: Infinity,
  openMs: 10_000,
  backoff: { factor: 1, maxMs: Infinity },
  halfOpenProbes: 1,
  failureOn: (error: Error) => !isValidationError(error) && !isAbortedError(error),
  now: () => Date.now(),
} satisfies Required<CircuitBreakerOptions>;

/** Default `threshold` in `'ratio'` mode. */
const RATIO_THRESHOLD = 0.5;
/** Defaults of a `backoff` object that is given. */
const BACKOFF_DEFAULTS = { factor: 2, maxMs: 300_000 } satisfies Required<CircuitBreakerBackoff>;

const KIND = 'circuit-breaker';
const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/** Outcome of a probe. */
const OK = 0;
const FAILED = 1;
const IGNORED = 2;
type Outcome = typeof OK | typeof FAILED | typeof IGNORED;

/**
 * A circuit breaker: sheds calls while a dependency is failing. One instance may guard several
 * primitives, which then share its state.
 *
 * Closed, it counts failures (`'consecutive'` or `'ratio'` mode; slow calls too with `slowCallMs`)
 * and opens past the threshold. Open, it rejects every call with `CircuitOpenError` (with
 * `retryAfterMs`) for `openMs` (growing with `backoff` on each re-open). Then it is half-open:
 * it admits up to `halfOpenProbes` calls at once and rejects the rest; a probe's success closes
 * it, a failure re-opens it. `isolate()` holds it open until released or `reset()`.
 *
 * There are no timers: open -> half-open is computed from the clock on the next call, so nothing
 * outlives a run. Events: `circuit.state_changed` and `circuit.rejected`. Transitions made outside
 * a call (`isolate()`, `reset()`, `restore()`) are emitted with empty `workflow`, `correlationId`
 * and `runId`, and with the breaker's name as `step`.
 *
 * @example
 * ```ts
 * const payments = new CircuitBreaker({ name: 'payments', mode: 'ratio', threshold: 0.5, minThroughput: 20 });
 * const charge = chargeCard.circuitBreaker(payments);
 * const refund = refundCard.circuitBreaker(payments); // shares the state
 * payments.onStateChange(({ from, to }) => log.warn(`payments breaker ${from} -> ${to}`));
 * ```
 */
export class CircuitBreaker {
  /** Recognises instances from any installed copy of `@weft/core`, so a shared one is never silently replaced. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[Symbol.for('weft.circuit-breaker.v1')] === true;
  }
  /** The breaker's name, on its events and errors. */
  readonly name: string;

  private readonly ratio: boolean;
  private readonly threshold: number;
  private readonly minThroughput: number;
  private readonly slowCallMs: number;
  private readonly trackSlow: boolean;
  private readonly openMs: number;
  private readonly factor: number;
  private readonly maxOpenMs: number;
  private readonly maxProbes: number;
  private readonly failureOn: (error: Error) => boolean;
  private readonly now: () => number;
  private readonly window: RollingWindow | undefined;

  private st: CircuitState = 'closed';
  /** Failures in a row, in 'consecutive' mode. */
  private failures = 0;
  /** While open: when probes may start. */
  private openUntil = 0;
  /** Opens since the last close (the backoff exponent). */
  private opens = 0;
  /** Counts half-open episodes, so a late probe of an earlier episode is ignored. */
  private episode = 0;
  /** Probes in flight in this half-open episode. */
  private probes = 0;
  private isolations = 0;
  /** Bumped by reset(), so that older isolation handles stop counting. */
  private isolationEpoch = 0;
  private listeners: Array<(change: CircuitStateChange) => void> | undefined;

  /**
   * Creates a breaker. Invalid options throw a `TypeError` naming the option.
   *
   * @example
   * ```ts
   * const breaker = new CircuitBreaker({ name: 'search', threshold: 3, openMs: 5_000 });
   * ```
   */
  constructor(options?: CircuitBreakerOptions, /** @internal name used when `options.name` is absent */ defaultName: string = DEFAULTS.name) {
    const o = optionsObject('options', options);
    this.name = o.name === undefined ? defaultName : primitiveName('name', o.name);
    const mode = oneOf<CircuitBreakerMode>('mode', o.mode, ['consecutive', 'ratio'], DEFAULTS.mode);
    this.ratio = mode === 'ratio';
    if (this.ratio) {
      const t = o.threshold ?? RATIO_THRESHOLD;
      if (typeof t !== 'number' || !(t > 0 && t <= 1)) fail('threshold', "a ratio in (0, 1] in 'ratio' mode", o.threshold);
      this.threshold = t;
    } else {
      this.threshold = number('threshold', o.threshold, DEFAULTS.threshold, { min: 1, integer: true });
    }
    const windowMs = number('windowMs', o.windowMs, DEFAULTS.windowMs, { min: 1 });
    const buckets = number('buckets', o.buckets, DEFAULTS.buckets, { min: 1, max: 1_000, integer: true });
    this.minThroughput = number('minThroughput', o.minThroughput, DEFAULTS.minThroughput, { min: 1, integer: true });
    this.slowCallMs = number('slowCallMs', o.slowCallMs, DEFAULTS.slowCallMs, { min: 0, finite: false });
    this.trackSlow = this.slowCallMs !== Infinity;
    this.openMs = number('openMs', o.openMs, DEFAULTS.openMs, { min: 0 });
    if (o.backoff === undefined) {
      this.factor = DEFAULTS.backoff.factor;
      this.maxOpenMs = DEFAULTS.backoff.maxMs;
    } else {
      const b = optionsObject('backoff', o.backoff);
      this.factor = number('backoff.factor', b.factor, BACKOFF_DEFAULTS.factor, { min: 1 });
      this.maxOpenMs = number('backoff.maxMs', b.maxMs, Math.max(BACKOFF_DEFAULTS.maxMs, this.openMs), { min: this.openMs, finite: false });
    }
    this.maxProbes = number('halfOpenProbes', o.halfOpenProbes, DEFAULTS.halfOpenProbes, { min: 1, integer: true });
    this.failureOn = optionalFunction<(error: Error) => boolean>('failureOn', o.failureOn) ?? DEFAULTS.failureOn;
    this.now = optionalFunction<() => number>('now', o.now) ?? DEFAULTS.now;
    this.window = this.ratio ? new RollingWindow(windowMs, buckets) : undefined;
  }

  /**
   * Builds a breaker from a snapshot saved by {@link CircuitBreaker.toJSON}, with `options`
   * for its configuration (the name defaults to the snapshot's).
   *
   * @example
   * ```ts
   * const breaker = CircuitBreaker.fromJSON(JSON.parse(saved), { threshold: 3 });
   * ```
   */
  static fromJSON(snapshot: CircuitBreakerSnapshot, options?: CircuitBreakerOptions): CircuitBreaker {
    const s = checkSnapshot(snapshot);
    const breaker = new CircuitBreaker(options, s.name);
    breaker.apply(s, false);
    return breaker;
  }

  /**
   * The current state. An open breaker whose open duration has passed reads `'half-open'`; the
   * transition itself (and its event) happens on the next call.
   *
   * @example
   * ```ts
   * if (breaker.state === 'open') return cachedAnswer;
   * ```
   */
  get state(): CircuitState {
    if (this.st === 'open' && this.now() >= this.openUntil) return 'half-open';
    return this.st;
  }

  /**
   * Subscribes to state transitions; returns the unsubscribe function. Listeners run synchronously
   * and must not throw (a throw is swallowed). For a shared state store, publish from here and
   * apply remote changes with {@link CircuitBreaker.restore}.
   *
   * @example
   * ```ts
   * const off = breaker.onStateChange(() => redis.set(key, JSON.stringify(breaker)));
   * ```
   */
  onStateChange(listener: (change: CircuitStateChange) => void): () => void {
    if (typeof listener !== 'function') fail('listener', 'a function', listener);
    this.listeners = [...(this.listeners ?? []), listener];
    return () => {
      const next = (this.listeners ?? []).filter((l) => l !== listener);
      this.listeners = next.length ? next : undefined;
    };
  }

  /**
   * Forces the breaker open (state `'isolated'`): every call is rejected with `CircuitOpenError`
   * until every handle is released or `reset()` is called.
   *
   * @example
   * ```ts
   * const handle = breaker.isolate();
   * await migrateDatabase();
   * handle.release();
   * ```
   */
  isolate(): IsolationHandle {
    const epoch = this.isolationEpoch;
    this.isolations++;
    if (this.st !== 'isolated') this.transition('isolated', undefined, this.name);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (epoch !== this.isolationEpoch) return;
        if (--this.isolations === 0) this.close(undefined, this.name);
      },
    };
  }

  /**
   * Closes the breaker and forgets its history: counts, backoff and isolations.
   *
   * @example
   * ```ts
   * breaker.reset();
   * ```
   */
  reset(): void {
    this.isolationEpoch++;
    this.isolations = 0;
    this.close(undefined, this.name);
  }

  /**
   * The breaker's state as plain JSON, for persistence or for sharing between instances.
   *
   * @example
   * ```ts
   * const saved = JSON.stringify(breaker); // calls toJSON()
   * ```
   */
  toJSON(): CircuitBreakerSnapshot {
    const w = this.window;
    return {
      version: 1,
      name: this.name,
      state: this.st,
      ...(this.st === 'open' ? { openUntil: this.openUntil } : {}),
      opens: this.opens,
      failures: this.failures,
      ...(w ? { window: { index: w.index, calls: [...w.calls], failures: [...w.failures] } } : {}),
    };
  }

  /**
   * Replaces this breaker's state with a snapshot from {@link CircuitBreaker.toJSON} (of this or
   * another instance); emits a state change when the state differs. A restored isolation holds
   * until `reset()`.
   *
   * @example
   * ```ts
   * subscriber.on('message', (json) => breaker.restore(JSON.parse(json)));
   * ```
   */
  restore(snapshot: CircuitBreakerSnapshot): void {
    this.apply(checkSnapshot(snapshot), true);
  }

  /** @internal Runs one call through the breaker. `step` names the guarded primitive on events. */
  execute<I, O>(inner: Exec<I, O>, input: I, ctx: Ctx, step: string): Promise<O> {
    if (this.st === 'closed' && !this.trackSlow) {
      // The hot path: no clock read, no closure but the failure handler.
      let p: Promise<O>;
      try {
        p = inner(input, ctx);
      } catch (error) {
        p = Promise.reject(toError(error));
      }
      return p.then(this.closedSuccess as (value: O) => O, (error: unknown) => this.closedFailure(error, ctx, step));
    }
    return this.executeSlow(inner, input, ctx, step);
  }

  private executeSlow<I, O>(inner: Exec<I, O>, input: I, ctx: Ctx, step: string): Promise<O> {
    let state = this.st;
    if (state === 'open') {
      const now = this.now();
      if (now < this.openUntil) return this.reject(ctx, step, 'open', this.openUntil - now);
      this.enterHalfOpen(ctx, step);
      state = 'half-open';
    }
    if (state === 'isolated') return this.reject(ctx, step, 'isolated', undefined);
    if (state === 'half-open') {
      if (this.probes >= this.maxProbes) return this.reject(ctx, step, 'half-open', undefined);
      this.probes++;
      const episode = this.episode;
      const t0 = this.trackSlow ? this.now() : 0;
      return call(inner, input, ctx).then(
        (value) => {
          this.probeDone(episode, this.trackSlow && this.now() - t0 > this.slowCallMs ? FAILED : OK, ctx, step);
          return value;
        },
        (thrown: unknown) => {
          const error = toError(thrown);
          this.probeDone(episode, this.counts(error, ctx) ? FAILED : IGNORED, ctx, step);
          throw error;
        },
      );
    }
    // Closed, timing calls for slowCallMs.
    const t0 = this.now();
    return call(inner, input, ctx).then(
      (value) => {
        if (this.st === 'closed') {
          if (this.now() - t0 > this.slowCallMs) this.recordFailure(ctx, step);
          else this.recordSuccess();
        }
        return value;
      },
      (error: unknown) => this.closedFailure(error, ctx, step),
    );
  }

  private readonly closedSuccess = (value: unknown): unknown => {
    if (this.st === 'closed') this.recordSuccess();
    return value;
  };

  private closedFailure(thrown: unknown, ctx: Ctx, step: string): never {
    const error = toError(thrown);
    if (this.st === 'closed' && this.counts(error, ctx)) this.recordFailure(ctx, step);
    throw error;
  }

  private recordSuccess(): void {
    if (this.window) this.window.record(this.now(), false);
    else this.failures = 0;
  }

  private recordFailure(ctx: Ctx, step: string): void {
    const w = this.window;
    if (w) {
      w.record(this.now(), true);
      if (w.totalCalls >= this.minThroughput && w.totalFailures >= this.threshold * w.totalCalls) this.open(ctx, step);
    } else if (++this.failures >= this.threshold) {
      this.open(ctx, step);
    }
  }

  /**
   * Whether an error counts as a failure: never for an abort of the caller or a failed sibling; a
   * timeout (an outer `.timeout()` or the run's deadline) does count, since it means the dependency
   * was too slow. Then `failureOn` decides.
   */
  private counts(error: Error, ctx: Ctx): boolean {
    if (ctx.scope.aborted && !isTimeoutError(ctx.scope.reason)) return false;
    try {
      return this.failureOn(error) !== false;
    } catch {
      return true;
    }
  }

  private probeDone(episode: number, outcome: Outcome, ctx: Ctx, step: string): void {
    if (this.st !== 'half-open' || episode !== this.episode) return;
    if (outcome === OK) this.close(ctx, step);
    else if (outcome === FAILED) this.open(ctx, step);
    else this.probes--;
  }

  private reject<O>(ctx: Ctx, step: string, state: CircuitState, retryAfterMs: number | undefined): Promise<O> {
    if (listening()) emit(ctx, KIND, { type: 'circuit.rejected', breaker: this.name, state, retryAfterMs, step });
    return Promise.reject(new CircuitOpenError(this.name, retryAfterMs));
  }

  private open(ctx: Ctx | undefined, step: string): void {
    const duration = Math.min(this.maxOpenMs, this.openMs * this.factor ** this.opens);
    this.opens++;
    this.openUntil = this.now() + duration;
    this.failures = 0;
    this.window?.clear();
    this.transition('open', ctx, step);
  }

  private enterHalfOpen(ctx: Ctx | undefined, step: string): void {
    this.episode++;
    this.probes = 0;
    this.transition('half-open', ctx, step);
  }

  private close(ctx: Ctx | undefined, step: string): void {
    this.failures = 0;
    this.opens = 0;
    this.probes = 0;
    this.window?.clear();
    if (this.st !== 'closed') this.transition('closed', ctx, step);
  }

  private transition(to: CircuitState, ctx: Ctx | undefined, step: string): void {
    const from = this.st;
    this.st = to;
    const ls = this.listeners;
    if (ls) {
      const change: CircuitStateChange = { breaker: this.name, from, to };
      for (const l of ls) {
        try {
          l(change);
        } catch {
          // a listener never breaks a call
        }
      }
    }
    if (!listening()) return;
    if (ctx) {
      emit(ctx, KIND, { type: 'circuit.state_changed', breaker: this.name, from, to, step });
    } else {
      hub.emit({ type: 'circuit.state_changed', breaker: this.name, from, to, workflow: '', step, primitive: KIND, correlationId: '', runId: '', time: performance.timeOrigin + performance.now() } satisfies WeftEvent);
    }
  }

  private apply(s: CircuitBreakerSnapshot, announce: boolean): void {
    this.failures = s.failures;
    this.opens = s.opens;
    this.openUntil = s.openUntil ?? 0;
    this.probes = 0;
    this.episode++;
    this.isolationEpoch++;
    this.isolations = s.state === 'isolated' ? 1 : 0;
    const w = this.window;
    if (w) {
      w.clear();
      if (s.window) w.load(s.window.index, s.window.calls, s.window.failures);
    }
    if (announce && this.st !== s.state) this.transition(s.state, undefined, this.name);
    else this.st = s.state;
  }
}

function call<I, O>(inner: Exec<I, O>, input: I, ctx: Ctx): Promise<O> {
  try {
    return inner(input, ctx);
  } catch (error) {
    return Promise.reject(toError(error));
  }
}

function checkSnapshot(value: unknown): CircuitBreakerSnapshot {
  const s = optionsObject('snapshot', value);
  if (s.version !== 1) fail('snapshot.version', '1', s.version);
  if (typeof s.name !== 'string' || s.name.length === 0 || s.name.length > 100) fail('snapshot.name', 'a name of 1-100 characters', s.name);
  if (!STATES.includes(s.state as CircuitState)) fail('snapshot.state', `one of ${STATES.map((x) => `"${x}"`).join(', ')}`, s.state);
  if (s.state === 'open' && (typeof s.openUntil !== 'number' || !Number.isFinite(s.openUntil))) fail('snapshot.openUntil', 'a finite number when state is "open"', s.openUntil);
  number('snapshot.opens', s.opens, 0, { min: 0, integer: true });
  number('snapshot.failures', s.failures, 0, { min: 0, integer: true });
  if (s.window !== undefined) {
    const w = optionsObject('snapshot.window', s.window);
    number('snapshot.window.index', w.index, 0, { integer: true });
    for (const key of ['calls', 'failures'] as const) {
      const list = w[key];
      if (!Array.isArray(list) || !list.every((n) => Number.isInteger(n) && n >= 0)) fail(`snapshot.window.${key}`, 'an array of non-negative integers', list);
    }
  }
  return value as CircuitBreakerSnapshot;
}

/**
 * Guards `primitive` with a circuit breaker: pass a shared {@link CircuitBreaker} to share state
 * between primitives, or options to build a breaker of its own (named after the primitive).
 * Calls while the breaker is open, isolated, or half-open with its probes taken reject with
 * `CircuitOpenError`. See {@link CircuitBreaker} for the states.
 *
 * @example
 * ```ts
 * const search = circuitBreaker(callSearch, { threshold: 3, openMs: 5_000 });
 * const payments = new CircuitBreaker({ name: 'payments', mode: 'ratio', threshold: 0.5 });
 * const charge = chargeCard.circuitBreaker(payments);
 * ```
 */
export function circuitBreaker<I, O>(primitive: Primitive<I, O>, options?: CircuitBreakerArg): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const name = primitive.name;
  const breaker = options instanceof CircuitBreaker ? options : new CircuitBreaker(options, name);
  const inner = primitive.exec;
  const exec: Exec<I, O> = (input, ctx) =>
    ctx.scope.aborted ? Promise.reject(abortReasonError(ctx.scope.reason)) : breaker.execute(inner, input, ctx, name);
  return new Primitive(name, KIND, exec);
}

Object.defineProperty(CircuitBreaker.prototype, Symbol.for('weft.circuit-breaker.v1'), { value: true });
