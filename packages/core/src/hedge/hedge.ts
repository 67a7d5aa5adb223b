import { AbortedError } from '../errors/aborted-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { Scope } from '../internal/scope.js';
import { fail, number, optionalFunction, optionalNumber, optionsObject } from '../internal/validate-options.js';
import { checkClock, currentClock, type Clock, type TimerHandle } from '../clock/clock.js';
import type { RunContext } from '../context/run-context.js';
import { callHook } from '../internal/hooks.js';
import { Primitive, type Exec } from '../primitive.js';
import { LatencyWindow } from './latency-window.js';

/** An adaptive hedging delay: a quantile of the latencies of recent successful calls. */
export interface HedgeQuantileDelay {
  /** Which quantile of recent successful latencies to wait, `0 < quantile <= 1`, e.g. `0.95`. */
  readonly quantile: number;
  /** How many samples must be held before the quantile is used instead of `fallbackMs`. @default 20 */
  readonly minSamples?: number;
  /** The delay used until `minSamples` samples are held. @default 100 */
  readonly fallbackMs?: number;
  /** How many recent latencies the ring buffer keeps; older ones are forgotten. @default 100 */
  readonly window?: number;
}

/** What {@link HedgeOptions.onHedge} is told when an extra attempt starts. */
export interface HedgeInfo {
  readonly step: string;
  /** The attempt starting (2 for the first hedge). */
  readonly attempt: number;
  /** How long the previous attempt had been running, when the delay started it. */
  readonly delayMs: number;
  /** `delay`: the previous attempt was slow; `error`: it failed (or its result counted as a failure). */
  readonly trigger: 'delay' | 'error';
}

/** Options for {@link hedge}. */
export interface HedgeOptions<O = unknown> {
  /**
   * Milliseconds to wait for an attempt before starting the next one: a number, or a function of
   * the attempt about to start (2, 3, ...) for a schedule. `0` starts every attempt at once.
   * Give either `delayMs` or `delay`, not both.
   * @default 100
   */
  readonly delayMs?: number | ((attempt: number) => number);
  /**
   * An adaptive delay instead of `delayMs`: wait the observed `quantile` of recent successful
   * latencies of this hedge primitive (its winning attempts, each measured from its own start).
   */
  readonly delay?: HedgeQuantileDelay;
  /** How many attempts may run in total, the first included. @default 2 */
  readonly maxAttempts?: number;
  /**
   * Whether a failed attempt starts the next attempt at once (without waiting for the delay).
   * When it returns `false`, the call rejects with that error at once and aborts the other attempts:
   * use it for errors that every attempt would hit too (bad input, 4xx).
   * @default true
   */
  readonly hedgeOnError?: boolean | ((error: Error, attempt: number) => boolean);
  /**
   * Asked before each extra attempt starts: return false to skip it (under load, or when the run
   * has too little time left). A skipped hedge is not tried again for that call.
   * @default always hedge
   */
  readonly shouldHedge?: (ctx: RunContext, attempt: number) => boolean;
  /**
   * Whether a successful result counts as a failure (a degraded answer): the next attempt starts
   * at once, as after an error. When no attempt gives a result that passes, the call resolves with
   * the last result.
   * @default undefined (every result wins)
   */
  readonly failureIf?: (result: O) => boolean;
  /** Called when an extra attempt starts; must not throw (a throw is swallowed). */
  readonly onHedge?: (info: HedgeInfo) => void;
  /** The clock whose timers run the delays and measure latencies. @default the current clock (`useClock`) */
  readonly clock?: Clock;
}

const DEFAULTS = {
  delayMs: 100,
  maxAttempts: 2,
  hedgeOnError: true,
} satisfies Partial<HedgeOptions>;

const KNOWN = ['delayMs', 'delay', 'maxAttempts', 'hedgeOnError', 'shouldHedge', 'failureIf', 'onHedge', 'clock'] as const;

const QUANTILE_DEFAULTS = {
  minSamples: 20,
  fallbackMs: 100,
  window: 100,
} satisfies Required<Omit<HedgeQuantileDelay, 'quantile'>>;

const MAX_DELAY = 2_147_483_647;

/** Resolved, validated configuration shared by every call of one hedge primitive. */
interface Config<I, O> {
  readonly inner: Exec<I, O>;
  readonly maxAttempts: number;
  readonly fixedDelay: number;
  readonly window: LatencyWindow | undefined;
  readonly quantile: number;
  readonly minSamples: number;
  readonly hedgeOnError: ((error: Error, attempt: number) => boolean) | undefined;
  readonly failFast: boolean;
  readonly delayFn: ((attempt: number) => number) | undefined;
  readonly shouldHedge: ((ctx: RunContext, attempt: number) => boolean) | undefined;
  readonly failureIf: ((result: O) => boolean) | undefined;
  readonly onHedge: ((info: HedgeInfo) => void) | undefined;
  readonly clock: Clock | undefined;
  readonly name: string;
}

/**
 * Starts another attempt when the current one is slow, and keeps whichever succeeds first
 * (request hedging, as in "The Tail at Scale").
 *
 * - Attempt 1 starts at once; each further attempt starts after the delay (fixed `delayMs`, or the
 *   observed `delay.quantile` of recent successful latencies), up to `maxAttempts` in total.
 *   Each attempt runs in its own child scope and sees `ctx.attempt` = 1, 2, ...
 * - The first success wins: the other attempts' signals abort with an `AbortedError`, and the
 *   pending hedge timer is cleared.
 * - A failed attempt has its own scope aborted and, when attempts remain, starts the next one at once
 *   instead of waiting for the delay (unless `hedgeOnError` says no: then the call fails fast with it).
 * - When every attempt has failed, the call rejects with the error of the attempt that failed last.
 * - An outer abort aborts every attempt and rejects at once. No timer outlives the call.
 *
 * Emits `hedge.started` for each extra attempt (`attempt`, `delayMs`, `trigger`) and `hedge.won`
 * (`attempt`, `hedged`) for the winner. Only hedge idempotent work: attempts may run concurrently.
 *
 * @example
 * ```ts
 * const fast = hedge(fetchQuote, { delayMs: 50, maxAttempts: 3 });
 * const adaptive = fetchQuote.hedge({ delay: { quantile: 0.95, minSamples: 20, fallbackMs: 80 } });
 * ```
 */
export function hedge<I, O>(primitive: Primitive<I, O>, options?: HedgeOptions<O>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const o = optionsObject('options', options, KNOWN, 'hedge');
  const maxAttempts = number('maxAttempts', o.maxAttempts, DEFAULTS.maxAttempts, { min: 1, max: 100, integer: true });
  let fixedDelay = DEFAULTS.delayMs;
  let window: LatencyWindow | undefined;
  let quantile = NaN;
  let minSamples = 0;
  if (o.delay !== undefined) {
    if (o.delayMs !== undefined) fail('delay', 'left out when `delayMs` is given (use one of them)', o.delay);
    const d = optionsObject('delay', o.delay);
    quantile = optionalNumber('delay.quantile', d.quantile, { min: 0, max: 1 }) ?? fail('delay.quantile', 'a number > 0 <= 1', d.quantile);
    if (quantile === 0) fail('delay.quantile', 'a number > 0 <= 1', d.quantile);
    const size = number('delay.window', d.window, QUANTILE_DEFAULTS.window, { min: 1, max: 100_000, integer: true });
    minSamples = number('delay.minSamples', d.minSamples, Math.min(QUANTILE_DEFAULTS.minSamples, size), { min: 1, max: size, integer: true });
    fixedDelay = number('delay.fallbackMs', d.fallbackMs, QUANTILE_DEFAULTS.fallbackMs, { min: 0, max: MAX_DELAY });
    window = new LatencyWindow(size);
  } else if (typeof o.delayMs !== 'function') {
    fixedDelay = number('delayMs', o.delayMs, DEFAULTS.delayMs, { min: 0, max: MAX_DELAY });
  }
  const rawOnError = o.hedgeOnError ?? DEFAULTS.hedgeOnError;
  if (typeof rawOnError !== 'boolean' && typeof rawOnError !== 'function') fail('hedgeOnError', 'a boolean or a function', rawOnError);

  const config: Config<I, O> = {
    inner: primitive.exec,
    maxAttempts,
    fixedDelay,
    window,
    quantile,
    minSamples,
    hedgeOnError: typeof rawOnError === 'function' ? (rawOnError as (error: Error, attempt: number) => boolean) : undefined,
    failFast: rawOnError === false,
    delayFn: typeof o.delayMs === 'function' ? (o.delayMs as (attempt: number) => number) : undefined,
    shouldHedge: optionalFunction<(ctx: RunContext, attempt: number) => boolean>('shouldHedge', o.shouldHedge),
    failureIf: optionalFunction<(result: O) => boolean>('failureIf', o.failureIf),
    onHedge: optionalFunction<(info: HedgeInfo) => void>('onHedge', o.onHedge),
    clock: checkClock('clock', o.clock),
    name: primitive.name,
  };

  const name = primitive.name;
  const exec: Exec<I, O> = (input, ctx) => {
    if (ctx.scope.aborted) return Promise.reject(abortReasonError(ctx.scope.reason));
    return new Promise<O>((resolve, reject) => {
      // Events name the hedged primitive, not the enclosing step.
      new HedgeCall(config, input, ctx.step === name ? ctx : ctx.with({ step: name }), resolve, reject).start(0, 'delay');
    });
  };
  return new Primitive(primitive.name, 'hedge', exec);
}

/** The state of one hedged call. A class so that per-call state costs one object, not a web of closures. */
class HedgeCall<I, O> {
  private settled = false;
  private started = 0;
  private failed = 0;
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;
  /** A result `failureIf` rejected, kept in case no attempt does better. */
  private fallbackResult: { value: O } | undefined;
  /** Set once `shouldHedge` said no: no more extra attempts for this call. */
  private stopHedging = false;
  private readonly scopes: Scope[] = [];
  private readonly startTimes: number[] | undefined;
  private readonly delayMs: number;
  private readonly offOuter: () => void;

  constructor(
    private readonly config: Config<I, O>,
    private readonly input: I,
    private readonly ctx: Ctx,
    private readonly resolve: (value: O) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.clock = config.clock ?? currentClock();
    const w = config.window;
    if (w === undefined) this.delayMs = config.fixedDelay;
    else {
      this.startTimes = [];
      this.delayMs = w.size >= config.minSamples ? Math.min(MAX_DELAY, Math.max(0, w.quantile(config.quantile))) : config.fixedDelay;
    }
    this.offOuter = ctx.scope.onAbort((reason) => this.onOuterAbort(reason));
  }

  /** Starts the next attempt; `delayMs`/`trigger` describe what started it, for the event. */
  start(delayMs: number, trigger: 'delay' | 'error'): void {
    if (this.settled) return;
    const attempt = this.started + 1;
    const ctx = this.ctx;
    if (attempt > 1) {
      const c = this.config;
      if (this.stopHedging || (c.shouldHedge !== undefined && !callShouldHedge(c.shouldHedge, ctx, attempt))) {
        this.stopHedging = true;
        if (trigger === 'error' && this.failed === this.started) this.finishWithoutWinner();
        return;
      }
      callHook(c.onHedge, { step: c.name, attempt, delayMs, trigger });
    }
    this.started = attempt;
    const scope = new Scope(ctx.scope);
    this.scopes.push(scope);
    if (this.startTimes) this.startTimes.push(this.clock.now());
    if (attempt > 1 && listening()) emit(ctx, 'hedge', { type: 'hedge.started', attempt, delayMs, trigger });
    let p: Promise<O>;
    try {
      p = this.config.inner(this.input, ctx.with({ scope, attempt }));
    } catch (error) {
      p = Promise.reject(toError(error));
    }
    p.then(
      (value) => this.onSuccess(attempt, value),
      (error: unknown) => this.onFailure(attempt, error),
    );
    if (attempt < this.config.maxAttempts && !this.settled && !this.stopHedging) {
      const delay = this.delayBefore(attempt + 1);
      this.nextDelay = delay;
      if (delay === 0) this.start(0, 'delay');
      else this.timer = this.clock.setTimeout(() => this.onTimer(), delay);
    }
  }

  /** The delay armed before the next attempt, for its event. */
  private nextDelay = 0;

  /** The wait before attempt `attempt` starts: the schedule function's, else the fixed or adaptive delay. */
  private delayBefore(attempt: number): number {
    const fn = this.config.delayFn;
    if (fn === undefined) return this.delayMs;
    let d: number;
    try {
      d = fn(attempt);
    } catch {
      return DEFAULTS.delayMs; // a throwing schedule falls back to the default delay
    }
    return typeof d === 'number' && d >= 0 ? Math.min(MAX_DELAY, d) : DEFAULTS.delayMs;
  }

  /** The hedge timer fired: the latest attempt is slow. */
  onTimer(): void {
    this.timer = undefined;
    this.start(this.nextDelay, 'delay');
  }

  private onSuccess(attempt: number, value: O): void {
    if (this.settled) return;
    const failureIf = this.config.failureIf;
    if (failureIf !== undefined && judged(failureIf, value)) {
      // A result that counts as a failure: keep it in case nothing better comes, and hedge at once.
      this.fallbackResult = { value };
      this.onFailure(attempt, new Error('The result counted as a failure (failureIf)'));
      return;
    }
    this.settled = true;
    this.cleanup();
    const scopes = this.scopes;
    if (scopes.length > 1) {
      const reason = new AbortedError(undefined, 'Another hedged attempt won', 'hedge');
      for (let i = 0; i < scopes.length; i++) if (i !== attempt - 1) scopes[i]!.abort(reason);
    }
    for (const s of scopes) s.dispose();
    const w = this.config.window;
    if (w !== undefined) w.record(this.clock.now() - this.startTimes![attempt - 1]!);
    if (listening()) emit(this.ctx, 'hedge', { type: 'hedge.won', attempt, hedged: this.started > 1 });
    this.resolve(value);
  }

  private onFailure(attempt: number, thrown: unknown): void {
    if (this.settled) return;
    const error = toError(thrown);
    this.failed++;
    // The failed attempt is done: abort whatever it left behind (sub-work, lingering listeners).
    const scope = this.scopes[attempt - 1]!;
    scope.abort(new AbortedError(error, 'The hedged attempt failed', 'sibling'));
    scope.dispose();
    const c = this.config;
    const hedgeable = !c.failFast && (c.hedgeOnError === undefined || callPredicate(c.hedgeOnError, error, attempt));
    this.lastError = error;
    if (hedgeable && this.started < c.maxAttempts && !this.stopHedging) {
      if (this.timer !== undefined) {
        this.clock.clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.start(0, 'error');
      return;
    }
    if (hedgeable && this.failed < this.started) return; // others still running
    if (!hedgeable) {
      // Fail fast with it: every attempt would hit it too.
      this.fallbackResult = undefined;
      if (this.failed < this.started) {
        const reason = new AbortedError(error, 'A hedged attempt failed with an error that is not hedged', 'sibling');
        for (const s of this.scopes) s.abort(reason);
      }
    }
    this.finishWithoutWinner();
  }

  /** The error of the attempt that failed last. */
  private lastError: Error | undefined;

  /** No attempt won: resolve with a result `failureIf` rejected, if any, else reject with the last error. */
  private finishWithoutWinner(): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup();
    for (const s of this.scopes) s.dispose();
    if (this.fallbackResult !== undefined) this.resolve(this.fallbackResult.value);
    else this.reject(this.lastError ?? new Error('No hedged attempt succeeded'));
  }

  private onOuterAbort(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    // Abort explicitly before disposing: the parent's callbacks run before it walks its children,
    // and a disposed child would otherwise be skipped.
    for (const s of this.scopes) {
      s.abort(reason);
      s.dispose();
    }
    this.reject(abortReasonError(reason));
  }

  private cleanup(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.offOuter();
  }
}

function judged<O>(failureIf: (result: O) => boolean, value: O): boolean {
  try {
    return failureIf(value) === true;
  } catch {
    return true; // a throwing judge counts the result as a failure
  }
}

function callShouldHedge(fn: (ctx: RunContext, attempt: number) => boolean, ctx: RunContext, attempt: number): boolean {
  try {
    return fn(ctx, attempt) !== false;
  } catch {
    return false;
  }
}

/** A throwing predicate must not break the call: treat the error as not hedgeable. */
function callPredicate(fn: (error: Error, attempt: number) => boolean, error: Error, attempt: number): boolean {
  try {
    return fn(error, attempt) === true;
  } catch {
    return false;
  }
}
