import { isTimeoutError } from '../errors/timeout-error.js';
import { CircuitOpenError, type CircuitRefusingState } from '../errors/circuit-open-error.js';
import { checkClock, currentClock, type Clock } from '../clock/clock.js';
import { callHook } from '../internal/hooks.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { isValidationError } from '../errors/validation-error.js';
import { hub } from '../internal/event-hub.js';
import type { CircuitState, WeftEvent } from '../events/event-types.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { fail, number, oneOf, optionalFunction, optionsObject, primitiveName } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import { CountWindow, RollingWindow } from './rolling-window.js';

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
export interface CircuitBreakerOptions<O = unknown> {
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
  /**
   * `'ratio'` mode: judge the last `windowSize` calls instead of the last `windowMs` (a
   * count-based sliding window, as resilience4j's COUNT_BASED). `minThroughput` still applies.
   * @default undefined (time-based)
   */
  readonly windowSize?: number;
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
  /** How many probes must succeed (with no failure between) before the half-open breaker closes. @default 1 */
  readonly successThreshold?: number;
  /**
   * The longest a half-open breaker waits for its probes. After it, probes still in flight are
   * abandoned (their outcomes no longer count) and new probes are admitted, so one probe that
   * never settles (a call with no timeout) cannot wedge the breaker.
   * @default openMs, but at least 1_000
   */
  readonly probeTimeoutMs?: number;
  /**
   * Whether a successful result counts as a failure: a 200 with a degraded body, an empty answer.
   * It then counts exactly as a thrown error does (in closed state, and as a failed probe).
   * @default undefined (results never fail)
   */
  readonly failureIf?: (result: O) => boolean;
  /** Called when the breaker opens (from closed or from a failed probe). Must not throw (a throw is swallowed). */
  readonly onBreak?: (info: { readonly breaker: string; readonly failures: number; readonly openMs: number; readonly lastFailure: Error | undefined }) => void;
  /** Called when the breaker starts admitting probes. */
  readonly onHalfOpen?: (info: { readonly breaker: string }) => void;
  /** Called when the breaker closes again (probes succeeded, the last isolation was released, or `reset()`). */
  readonly onReset?: (info: { readonly breaker: string }) => void;
  /** Called with each refusal, before the caller sees it. */
  readonly onRejected?: (error: CircuitOpenError) => void;
  /** The clock for open durations, windows and probe timeouts. @default the current clock (`useClock`), else the system clock */
  readonly clock?: Clock;
  /**
   * Which errors count as failures. An error it rejects neither counts as a failure nor as a
   * success. Aborts of the caller never count, whatever this says.
   * @default every error except `ValidationError` and aborts (`AbortedError`, DOM `AbortError`)
   */
  readonly failureOn?: (error: Error) => boolean;
  /** The time in ms, instead of `clock` (kept for older code). Read lazily: there are no timers. @default the clock's `now` */
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
export type CircuitBreakerArg<O = unknown> = CircuitBreakerOptions<O> | CircuitBreaker;

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
  /** The count-based window's outcomes, oldest first, true for a failure (`'ratio'` mode with `windowSize`). */
  readonly recent?: readonly boolean[];
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
  successThreshold: 1,
  failureOn: (error: Error) => !isValidationError(error) && !isAbortedError(error),
} satisfies Partial<CircuitBreakerOptions>;

const KNOWN = [
  'name', 'mode', 'threshold', 'windowMs', 'windowSize', 'buckets', 'minThroughput', 'slowCallMs', 'openMs', 'backoff', 'halfOpenProbes',
  'successThreshold', 'probeTimeoutMs', 'failureOn', 'failureIf', 'onBreak', 'onHalfOpen', 'onReset', 'onRejected', 'clock', 'now',
] as const;

/**
 * The breaker's state: each variant holds exactly what that state needs.
 * - closed: failures in a row (`'consecutive'` mode; the ratio window lives beside it).
 * - open: until when, how many opens since the last close (the backoff exponent), what opened it.
 * - half-open: the episode (a late probe of an earlier one is ignored), probes in flight,
 *   successes so far, when it expires, and what opened it before.
 * - isolated: how many isolation handles hold it.
 */
type State =
  | { readonly kind: 'closed'; failures: number }
  | { readonly kind: 'open'; readonly until: number; readonly opens: number; readonly failures: number; readonly lastFailure: Error | undefined }
  | {
      readonly kind: 'half-open';
      readonly episode: number;
      readonly opens: number;
      readonly expiresAt: number;
      readonly failures: number;
      readonly lastFailure: Error | undefined;
      probes: number;
      successes: number;
    }
  | { readonly kind: 'isolated'; holders: number };

/** Default `threshold` in `'ratio'` mode. */
const RATIO_THRESHOLD = 0.5;
/** Defaults of a `backoff` object that is given. */
const BACKOFF_DEFAULTS = { factor: 2, maxMs: 300_000 } satisfies Required<CircuitBreakerBackoff>;

const KIND = 'circuit-breaker';
const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/** A call's outcome, as the breaker counts it. */
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
  private readonly successThreshold: number;
  private readonly probeTimeoutMs: number;
  private readonly failureOn: (error: Error) => boolean;
  private readonly resultFails: ((result: unknown) => boolean) | undefined;
  private readonly nowFn: (() => number) | undefined;
  private readonly clock: Clock | undefined;
  private readonly window: RollingWindow | CountWindow | undefined;
  private readonly hooks: Pick<CircuitBreakerOptions, 'onBreak' | 'onHalfOpen' | 'onReset' | 'onRejected'>;
  /** Whether every call can take the hot path (closed, nothing to time or inspect). */
  private readonly plain: boolean;

  private st: State = { kind: 'closed', failures: 0 };
  /** Counts half-open episodes, so a late probe of an earlier episode is ignored. */
  private episodes = 0;
  /** Bumped by reset() and restore(), so that older isolation handles stop counting. */
  private isolationEpoch = 0;
  private listeners: Array<(change: CircuitStateChange) => void> | undefined;

  /**
   * Creates a breaker. Invalid or unknown options throw a `TypeError` naming the option.
   *
   * @example
   * ```ts
   * const breaker = new CircuitBreaker({ name: 'search', threshold: 3, openMs: 5_000 });
   * ```
   */
  constructor(options?: CircuitBreakerOptions, /** @internal name used when `options.name` is absent */ defaultName: string = DEFAULTS.name) {
    const o = optionsObject('options', options, KNOWN, 'circuitBreaker');
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
    const windowSize = o.windowSize === undefined ? undefined : number('windowSize', o.windowSize, 0, { min: 1, max: 100_000, integer: true });
    if (windowSize !== undefined && !this.ratio) fail('windowSize', "unset outside 'ratio' mode (or set mode: 'ratio')", windowSize);
    const buckets = number('buckets', o.buckets, DEFAULTS.buckets, { min: 1, max: 1_000, integer: true });
    this.minThroughput = number('minThroughput', o.minThroughput, DEFAULTS.minThroughput, { min: 1, integer: true });
    this.slowCallMs = number('slowCallMs', o.slowCallMs, DEFAULTS.slowCallMs, { min: 0, finite: false });
    this.trackSlow = this.slowCallMs !== Infinity;
    this.openMs = number('openMs', o.openMs, DEFAULTS.openMs, { min: 0 });
    if (o.backoff === undefined) {
      this.factor = DEFAULTS.backoff.factor;
      this.maxOpenMs = DEFAULTS.backoff.maxMs;
    } else {
      const b = optionsObject('backoff', o.backoff, ['factor', 'maxMs'], 'circuitBreaker backoff');
      this.factor = number('backoff.factor', b.factor, BACKOFF_DEFAULTS.factor, { min: 1 });
      this.maxOpenMs = number('backoff.maxMs', b.maxMs, Math.max(BACKOFF_DEFAULTS.maxMs, this.openMs), { min: this.openMs, finite: false });
    }
    this.maxProbes = number('halfOpenProbes', o.halfOpenProbes, DEFAULTS.halfOpenProbes, { min: 1, integer: true });
    this.successThreshold = number('successThreshold', o.successThreshold, DEFAULTS.successThreshold, { min: 1, integer: true });
    this.probeTimeoutMs = number('probeTimeoutMs', o.probeTimeoutMs, Math.max(this.openMs, 1_000), { min: 1, finite: false });
    this.failureOn = optionalFunction<(error: Error) => boolean>('failureOn', o.failureOn) ?? DEFAULTS.failureOn;
    this.resultFails = optionalFunction<(result: unknown) => boolean>('failureIf', o.failureIf);
    this.nowFn = optionalFunction<() => number>('now', o.now);
    this.clock = checkClock('clock', o.clock);
    if (this.nowFn !== undefined && this.clock !== undefined) fail('now', 'unset when `clock` is given', o.now);
    this.hooks = {
      onBreak: optionalFunction('onBreak', o.onBreak),
      onHalfOpen: optionalFunction('onHalfOpen', o.onHalfOpen),
      onReset: optionalFunction('onReset', o.onReset),
      onRejected: optionalFunction('onRejected', o.onRejected),
    };
    this.window = !this.ratio ? undefined : windowSize !== undefined ? new CountWindow(windowSize) : new RollingWindow(windowMs, buckets);
    this.plain = !this.trackSlow && this.resultFails === undefined;
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
    const st = this.st;
    if (st.kind === 'open' && this.now() >= st.until) return 'half-open';
    return st.kind;
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
    if (this.st.kind === 'isolated') this.st.holders++;
    else this.transition({ kind: 'isolated', holders: 1 }, undefined, this.name);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const st = this.st;
        if (epoch !== this.isolationEpoch || st.kind !== 'isolated') return;
        if (--st.holders === 0) this.close(undefined, this.name);
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
    const st = this.st;
    const w = this.window;
    return {
      version: 1,
      name: this.name,
      state: st.kind,
      ...(st.kind === 'open' ? { openUntil: st.until } : {}),
      opens: st.kind === 'open' || st.kind === 'half-open' ? st.opens : 0,
      failures: st.kind === 'closed' ? st.failures : 0,
      ...(w instanceof RollingWindow ? { window: { index: w.index, calls: [...w.calls], failures: [...w.failures] } } : {}),
      ...(w instanceof CountWindow ? { recent: w.outcomes() } : {}),
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
    if (this.st.kind === 'closed' && this.plain) {
      // The hot path: no clock read, no closure but the failure handler.
      return call(inner, input, ctx).then(this.closedSuccess as (value: O) => O, (error: unknown) => this.closedFailure(error, ctx, step));
    }
    return this.executeSlow(inner, input, ctx, step);
  }

  private executeSlow<I, O>(inner: Exec<I, O>, input: I, ctx: Ctx, step: string): Promise<O> {
    let st = this.st;
    if (st.kind === 'open') {
      const now = this.now();
      if (now < st.until) return this.reject(ctx, step, 'open', st.until - now, st.failures, st.lastFailure);
      st = this.enterHalfOpen(st, now, ctx, step);
    }
    if (st.kind === 'isolated') return this.reject(ctx, step, 'isolated', undefined, undefined, undefined);
    if (st.kind === 'half-open') {
      if (st.probes >= this.maxProbes) {
        const now = this.now();
        // The probes in flight have had their time: abandon them and admit new ones.
        if (now >= st.expiresAt) st = this.enterHalfOpen(st, now, ctx, step);
        else return this.reject(ctx, step, 'half-open', st.expiresAt - now, st.failures, st.lastFailure, st.probes);
      }
      st.probes++;
      const episode = st.episode;
      const t0 = this.trackSlow ? this.now() : 0;
      return call(inner, input, ctx).then(
        (value) => {
          this.probeDone(episode, this.judgeResult(value, t0), ctx, step);
          return value;
        },
        (thrown: unknown) => {
          const error = toError(thrown);
          this.probeDone(episode, this.counts(error, ctx) ? FAILED : IGNORED, ctx, step, error);
          throw error;
        },
      );
    }
    // Closed, timing calls for slowCallMs or judging results with failureIf.
    const t0 = this.trackSlow ? this.now() : 0;
    return call(inner, input, ctx).then(
      (value) => {
        if (this.st.kind === 'closed') {
          if (this.judgeResult(value, t0) === FAILED) this.recordFailure(ctx, step, this.lastJudged);
          else this.recordSuccess();
        }
        return value;
      },
      (error: unknown) => this.closedFailure(error, ctx, step),
    );
  }

  /** Why the last result judged FAILED failed, as an error for `cause` and `onBreak`. */
  private lastJudged: Error | undefined;

  /** A settled call's outcome: FAILED when it was slow or `failureIf` says so. */
  private judgeResult(value: unknown, t0: number): Outcome {
    if (this.trackSlow) {
      const took = this.now() - t0;
      if (took > this.slowCallMs) {
        this.lastJudged = new Error(`The call took ${took} ms, over slowCallMs (${this.slowCallMs} ms)`);
        return FAILED;
      }
    }
    if (this.resultFails !== undefined) {
      let failed: boolean;
      try {
        failed = this.resultFails(value) === true;
      } catch (error) {
        this.lastJudged = toError(error);
        return FAILED;
      }
      if (failed) {
        this.lastJudged = new Error('The result counted as a failure (failureIf)');
        return FAILED;
      }
    }
    return OK;
  }

  private readonly closedSuccess = (value: unknown): unknown => {
    if (this.st.kind === 'closed') this.recordSuccess();
    return value;
  };

  private closedFailure(thrown: unknown, ctx: Ctx, step: string): never {
    const error = toError(thrown);
    if (this.st.kind === 'closed' && this.counts(error, ctx)) this.recordFailure(ctx, step, error);
    throw error;
  }

  private recordSuccess(): void {
    const st = this.st;
    if (this.window) this.window.record(this.now(), false);
    else if (st.kind === 'closed') st.failures = 0;
  }

  private recordFailure(ctx: Ctx, step: string, error: Error | undefined): void {
    const st = this.st;
    if (st.kind !== 'closed') return;
    const w = this.window;
    if (w) {
      w.record(this.now(), true);
      if (w.totalCalls >= this.minThroughput && w.totalFailures >= this.threshold * w.totalCalls) this.open(w.totalFailures, 0, error, ctx, step);
    } else if (++st.failures >= this.threshold) {
      this.open(st.failures, 0, error, ctx, step);
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

  private probeDone(episode: number, outcome: Outcome, ctx: Ctx, step: string, error?: Error): void {
    const st = this.st;
    if (st.kind !== 'half-open' || episode !== st.episode) return;
    st.probes--;
    if (outcome === OK) {
      if (++st.successes >= this.successThreshold) this.close(ctx, step);
    } else if (outcome === FAILED) {
      this.open(1, st.opens, error ?? this.lastJudged, ctx, step);
    }
  }

  private reject<O>(
    ctx: Ctx,
    step: string,
    state: CircuitRefusingState,
    retryAfterMs: number | undefined,
    failures: number | undefined,
    lastFailure: Error | undefined,
    probes?: number,
  ): Promise<O> {
    if (listening()) emit(ctx, KIND, { type: 'circuit.rejected', breaker: this.name, state, retryAfterMs, step });
    const error = new CircuitOpenError(this.name, {
      state,
      retryAfterMs,
      failures,
      lastFailure,
      ...(probes === undefined ? {} : { probes: { inFlight: probes, max: this.maxProbes } }),
    });
    callHook(this.hooks.onRejected, error);
    return Promise.reject(error);
  }

  /** Opens for `openMs` grown by the backoff over `opens` earlier opens since the last close. */
  private open(failures: number, opens: number, lastFailure: Error | undefined, ctx: Ctx | undefined, step: string): void {
    const duration = Math.min(this.maxOpenMs, this.openMs * this.factor ** opens);
    this.window?.clear();
    this.transition({ kind: 'open', until: this.now() + duration, opens: opens + 1, failures, lastFailure }, ctx, step);
    callHook(this.hooks.onBreak, { breaker: this.name, failures, openMs: duration, lastFailure });
  }

  private enterHalfOpen(from: Extract<State, { kind: 'open' | 'half-open' }>, now: number, ctx: Ctx | undefined, step: string): Extract<State, { kind: 'half-open' }> {
    const next: State = {
      kind: 'half-open',
      episode: ++this.episodes,
      opens: from.opens,
      expiresAt: now + this.probeTimeoutMs,
      failures: from.failures,
      lastFailure: from.lastFailure,
      probes: 0,
      successes: 0,
    };
    if (from.kind === 'half-open') this.st = next; // a fresh episode: the state itself does not change
    else {
      this.transition(next, ctx, step);
      callHook(this.hooks.onHalfOpen, { breaker: this.name });
    }
    return next;
  }

  private close(ctx: Ctx | undefined, step: string): void {
    this.window?.clear();
    const wasClosed = this.st.kind === 'closed';
    if (wasClosed) this.st = { kind: 'closed', failures: 0 };
    else {
      this.transition({ kind: 'closed', failures: 0 }, ctx, step);
      callHook(this.hooks.onReset, { breaker: this.name });
    }
  }

  private transition(to: State, ctx: Ctx | undefined, step: string): void {
    const from = this.st.kind;
    this.st = to;
    const ls = this.listeners;
    if (ls) {
      const change: CircuitStateChange = { breaker: this.name, from, to: to.kind };
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
      emit(ctx, KIND, { type: 'circuit.state_changed', breaker: this.name, from, to: to.kind, step });
    } else {
      hub.emit({ type: 'circuit.state_changed', breaker: this.name, from, to: to.kind, workflow: '', step, primitive: KIND, correlationId: '', runId: '', time: performance.timeOrigin + performance.now() } satisfies WeftEvent);
    }
  }

  private now(): number {
    return this.nowFn !== undefined ? this.nowFn() : (this.clock ?? currentClock()).now();
  }

  private apply(s: CircuitBreakerSnapshot, announce: boolean): void {
    this.isolationEpoch++;
    const w = this.window;
    if (w instanceof RollingWindow) {
      w.clear();
      if (s.window) w.load(s.window.index, s.window.calls, s.window.failures);
    } else if (w instanceof CountWindow) {
      w.clear();
      if (s.recent) w.load(s.recent);
    }
    let next: State;
    switch (s.state) {
      case 'closed':
        next = { kind: 'closed', failures: s.failures };
        break;
      case 'open':
        next = { kind: 'open', until: s.openUntil ?? 0, opens: s.opens, failures: s.failures, lastFailure: undefined };
        break;
      case 'half-open':
        // Probes in flight are not saved: a restored half-open breaker admits fresh probes.
        next = { kind: 'half-open', episode: ++this.episodes, opens: s.opens, expiresAt: this.now() + this.probeTimeoutMs, failures: s.failures, lastFailure: undefined, probes: 0, successes: 0 };
        break;
      case 'isolated':
        next = { kind: 'isolated', holders: 1 };
        break;
    }
    if (announce && this.st.kind !== s.state) this.transition(next, undefined, this.name);
    else this.st = next;
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
  if (s.recent !== undefined && !(Array.isArray(s.recent) && s.recent.every((b) => typeof b === 'boolean'))) fail('snapshot.recent', 'an array of booleans', s.recent);
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
export function circuitBreaker<I, O>(primitive: Primitive<I, O>, options?: CircuitBreakerArg<O>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const name = primitive.name;
  // Its own breaker guards only this primitive, so `failureIf` sees only results of type O.
  const breaker = options instanceof CircuitBreaker ? options : new CircuitBreaker(options as CircuitBreakerOptions | undefined, name);
  const inner = primitive.exec;
  const exec: Exec<I, O> = (input, ctx) =>
    ctx.scope.aborted ? Promise.reject(abortReasonError(ctx.scope.reason)) : breaker.execute(inner, input, ctx, name);
  return new Primitive(name, KIND, exec);
}

Object.defineProperty(CircuitBreaker.prototype, Symbol.for('weft.circuit-breaker.v1'), { value: true });
