import type { Attributes, Span } from '@opentelemetry/api';
import pRetry, { AbortError as StopRetrying, type RetryContext } from 'p-retry';
import { checkClock, currentClock, type Clock } from '../clock/clock.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { classifyError } from '../errors/classify.js';
import { toError } from '../errors/non-error-thrown.js';
import { RetryExhaustedError } from '../errors/retry-exhausted-error.js';
import { isValidationError } from '../errors/validation-error.js';
import type { RetryGaveUpEvent } from '../events/event-types.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { callHook } from '../internal/hooks.js';
import { isThenable } from '../internal/is-thenable.js';
import { sleep } from '../internal/sleep.js';
import { childSpan, endSpan, failSpan } from '../internal/tracing.js';
import { fail, number, oneOf, optionalBoolean, optionalFunction, optionsObject } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import { backoffDelay, type BackoffConfig, type RetryBackoff, type RetryJitter } from './backoff.js';
import { retryAfterFrom } from './retry-after.js';

export type { RetryBackoff, RetryJitter } from './backoff.js';

/** What {@link RetryOptions.onRetry} is told before each retry. */
export interface RetryInfo {
  /** The retry's name (the wrapped primitive's). */
  readonly step: string;
  /** The attempt that failed (1-based); the next one is `attempt + 1`. */
  readonly attempt: number;
  /** The wait before the next attempt, in ms. */
  readonly delayMs: number;
  /** Whether the wait came from the error's own retry hint. */
  readonly hinted: boolean;
  /** The error of the failed attempt; undefined when `retryIf` rejected a result. */
  readonly error: Error | undefined;
  /** The result `retryIf` rejected, when that is why. */
  readonly result?: unknown;
}

/** What {@link RetryOptions.onGiveUp} is told when a call ends without success. */
export interface RetryGiveUpInfo {
  readonly step: string;
  readonly attempts: number;
  readonly reason: RetryGaveUpEvent['reason'];
  readonly error: unknown;
}

/**
 * Options for {@link retry}. Every attempt sees its 1-based number as `ctx.attempt`.
 *
 * Delays grow exponentially, `minDelay * factor ** (n - 1)` before retry `n`, are capped at `maxDelay`,
 * and are then spread by `jitter`. A retry hint on the error (`retryAfter`) replaces the computed
 * delay. No delay ever ends past `ctx.deadline`: the retry gives up instead.
 *
 * @example
 * ```ts
 * const options: RetryOptions<Response> = {
 *   retries: 4,
 *   minDelay: 100,
 *   maxDelay: 5_000,
 *   retryOn: (error) => !(error instanceof HttpError && error.status < 500),
 *   retryIf: (response) => response.status === 202, // not ready yet: poll again
 * };
 * ```
 */
export interface RetryOptions<O = unknown> {
  /**
   * Retries after the first attempt, so `retries + 1` attempts at most. `Infinity` retries until
   * success, the deadline or an abort (set a deadline or timeout when you use it).
   * @default 2
   */
  readonly retries?: number;
  /**
   * Growth of the delay per retry (at least 1; 1 gives a constant delay). Not used by `decorrelated` jitter.
   * @default 2
   */
  readonly factor?: number;
  /**
   * Milliseconds before the first retry, before jitter. 0 retries at once.
   * @default 200
   */
  readonly minDelay?: number;
  /**
   * Upper bound of any delay in milliseconds, after jitter and for `retryAfter` hints too. At most 2^31-1.
   * @default 30_000, or `minDelay` when that is larger
   */
  readonly maxDelay?: number;
  /**
   * How delays are randomised so that many clients do not retry in lockstep. Never exceeds `maxDelay`.
   * - `none`: exactly `min(maxDelay, minDelay * factor ** (n - 1))`.
   * - `full`: uniform in `[0, that]` (AWS "full jitter").
   * - `decorrelated`: uniform in `[minDelay, 3 * previous delay]`, capped (AWS "decorrelated jitter").
   * @default 'full'
   */
  readonly jitter?: RetryJitter;
  /**
   * Whether to retry after `error` from attempt `attempt` (1-based); may answer with a promise. A
   * `ValidationError`, an abort (`AbortedError`, `AbortError`) or any error while the run is
   * aborted is never retried, whatever this says. If it throws or rejects, the retry stops and
   * rejects with that.
   * @default retry what {@link classifyError} calls retryable: not a `BudgetExceededError`, an
   * isolated breaker's `CircuitOpenError`, a `RouteNotFoundError`, a `CompensationError` or an
   * inner `RetryExhaustedError`; every other error is retried
   */
  readonly retryOn?: (error: Error, attempt: number) => boolean | Promise<boolean>;
  /**
   * The shape of the computed delays: `exponential` (`minDelay * factor ** (n - 1)`), `linear`
   * (`minDelay * n`) or `constant` (`minDelay`); capped by `maxDelay`, then spread by `jitter`.
   * @default 'exponential'
   */
  readonly backoff?: RetryBackoff;
  /**
   * An explicit schedule: the wait before retry `n` is `delays[n - 1]` (the last one repeats), as
   * given: no jitter, capped by `maxDelay`. `retries` defaults to its length.
   * @default undefined (computed delays)
   * @example
   * ```ts
   * retry(call, { delays: [100, 500, 2_000] }); // three retries, waiting 100 ms, 500 ms, 2 s
   * ```
   */
  readonly delays?: readonly number[];
  /**
   * The wait before the retry after attempt `attempt`, when you know better (a provider's
   * documented schedule): milliseconds, or undefined to use the computed delay. An error's own
   * retry hint (`retryAfter`) still comes first.
   * @default undefined
   */
  readonly delay?: (attempt: number, error: Error | undefined) => number | undefined;
  /** The clock whose timers the waits use (a test clock makes them instant). @default the current clock (`useClock`) */
  readonly clock?: Clock;
  /**
   * Unref the wait's timer, so a pending backoff does not keep a CLI process alive. The retry
   * still completes if something else keeps the process running.
   * @default false
   */
  readonly unref?: boolean;
  /** Called before each retry, with the failed attempt and the wait; must not throw (a throw is swallowed). */
  readonly onRetry?: (info: RetryInfo) => void;
  /** Called once when a call ends without success (out of attempts or time, not retryable, or aborted). */
  readonly onGiveUp?: (info: RetryGiveUpInfo) => void;
  /**
   * Retry while the result says so (polling): return true to discard `result` and try again. When
   * attempts or time run out, the call **resolves with the last result** (as cockatiel and Polly
   * do): the caller holds a valid `O` and decides; `retry.gave_up` reports it. If it throws, the
   * retry stops and rejects with what it threw.
   * @default never retry a result
   */
  readonly retryIf?: (result: O, attempt: number) => boolean;
  /**
   * Honour a server's retry hint: `true` reads it with {@link retryAfterFrom} (`error.retryAfter` in
   * ms, an HTTP `Retry-After` in seconds or as a date, `retry-after-ms`); a function returns the
   * hint in milliseconds, or undefined for none (negative or NaN count as none); `false` ignores
   * hints. A hinted delay replaces the backoff, is capped by `maxDelay`, and if it would end past
   * the deadline the retry gives up at once.
   * @default true
   */
  readonly retryAfter?: boolean | ((error: Error) => number | undefined);
  /**
   * When retries run out (or the deadline comes first), reject with the last error itself instead
   * of a `RetryExhaustedError` wrapping it (`cause` = last error, `attempts` = count).
   * @default false
   */
  readonly rethrow?: boolean;
  /**
   * Source of uniform numbers in [0, 1) for jitter; inject a seeded one for reproducible delays.
   * @default Math.random
   */
  readonly random?: () => number;
}

/**
 * What {@link retry} accepts: the number of retries, or the options.
 *
 * @example
 * ```ts
 * retry(fetchUser, 3); // same as retry(fetchUser, { retries: 3 })
 * ```
 */
export type RetryArg<O = unknown> = number | RetryOptions<O>;

const DEFAULTS = {
  retries: 2,
  backoff: 'exponential',
  factor: 2,
  minDelay: 200,
  maxDelay: 30_000,
  jitter: 'full',
  retryAfter: true,
  rethrow: false,
  random: Math.random,
} as const satisfies Required<Omit<RetryOptions, 'retryOn' | 'retryIf' | 'delays' | 'delay' | 'clock' | 'unref' | 'onRetry' | 'onGiveUp'>>;

const KNOWN = ['retries', 'factor', 'minDelay', 'maxDelay', 'jitter', 'backoff', 'delays', 'delay', 'retryOn', 'retryIf', 'retryAfter', 'rethrow', 'random', 'clock', 'unref', 'onRetry', 'onGiveUp'] as const;
const BACKOFFS: readonly RetryBackoff[] = ['exponential', 'linear', 'constant'];
const JITTERS: readonly RetryJitter[] = ['none', 'full', 'decorrelated'];
const MAX_TIMER = 2_147_483_647;

/** Resolved, validated options. */
interface Config<O> extends BackoffConfig {
  readonly maxAttempts: number;
  readonly retryOn: (error: Error, attempt: number) => boolean | Promise<boolean>;
  readonly delays: readonly number[] | undefined;
  readonly delay: ((attempt: number, error: Error | undefined) => number | undefined) | undefined;
  readonly clock: Clock | undefined;
  readonly unref: boolean;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
  readonly onGiveUp: ((info: RetryGiveUpInfo) => void) | undefined;
  readonly retryIf: ((result: O, attempt: number) => boolean) | undefined;
  readonly hint: ((error: Error) => number | undefined) | undefined;
  readonly rethrow: boolean;
}

/**
 * Retries a primitive on failure, with capped exponential backoff and jitter, retry hints,
 * deadlines and cancellation.
 *
 * Behaviour, in the order it is decided after a failed attempt:
 * 1. If the run is aborted (`ctx.scope`), stop at once and reject with the abort reason. Sleeps wake
 *    at once on abort too, and the attempt in flight sees it on `ctx.signal` (retry then waits for
 *    it to settle; `run()` and an outer `timeout` hand control back to the caller at once anyway).
 * 2. A `ValidationError` or an abort error (`AbortedError`, DOM `AbortError`) is rethrown, never
 *    retried. A `TimeoutError` from a per-attempt timeout *is* retried: only an abort of the run's own
 *    scope (caller, outer timeout, run deadline) stops the retry.
 * 3. `retryOn(error, attempt)` may veto; the error is rethrown as is.
 * 4. With no attempts left, reject with `RetryExhaustedError` (or the last error with `rethrow`).
 * 5. The delay is the error's retry hint if any, else the backoff; always `<= maxDelay`. If it would
 *    end at or past `ctx.deadline`, give up at once (reason `deadline`), rejecting as in 4: a retry
 *    never sleeps into a deadline it cannot beat.
 *
 * Events: `retry.attempt` (each attempt, with `final`), `retry.scheduled` (an intermediate failure,
 * `final: false`: log at warn), `retry.gave_up` (the final failure, `final: true`: log at error;
 * emitted once per call that ends without success) and `retry.succeeded` (success after a retry).
 * When the trace is recording, a `retry <name>` span wraps the attempts, whose own spans nest under it.
 *
 * **Built on p-retry.** p-retry runs the retry loop, counts attempts and stops on its `AbortError`.
 * It cannot express the rest, so Weft does it around p-retry: the first attempt runs directly, so the
 * success path costs no p-retry call, no AbortSignal and no extra promise beyond one `.then`; only a
 * failure hands over to p-retry. Delays are Weft's (p-retry's are `minTimeout * factor ** n` with
 * 1-2x random factor: no full/decorrelated jitter, no retry hints, and it shortens the last sleep to
 * `maxRetryTime` instead of giving up); they are slept in p-retry's `onFailedAttempt` with an
 * abort-aware sleep on the run's scope (p-retry's own needs an AbortSignal). Retry decisions are
 * Weft's too: p-retry refuses to retry a `TypeError` unless it recognises a network-error message,
 * a guess by message text, so user errors never reach its checks and `retryOn` decides instead.
 *
 * @example
 * ```ts
 * const fetchQuote = step('fetch-quote', (symbol: string, ctx) => api.quote(symbol, { signal: ctx.signal }));
 * const robust = retry(fetchQuote.timeout(1_000), { retries: 3, minDelay: 100, maxDelay: 2_000 });
 * // or fetchQuote.timeout(1_000).retry({ retries: 3 }): each attempt gets 1 s, timeouts are retried
 * await robust.run('ACME', { timeout: 5_000 }); // never sleeps past the 5 s deadline
 * ```
 */
export function retry<I, O>(primitive: Primitive<I, O>, options?: RetryArg<O>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const config = resolve<O>(typeof options === 'number' ? { retries: options } : options);
  const inner = primitive.exec;
  const name = primitive.name;
  const retryIf = config.retryIf;
  const maxAttempts = config.maxAttempts;
  const spanName = `retry ${name}`;

  const exec: Exec<I, O> = (input, parent) => {
    const scope = parent.scope;
    if (scope.aborted) return Promise.reject(abortReasonError(scope.reason));
    let ctx = parent;
    let span: Span | undefined;
    if (parent.span !== undefined) {
      const attributes: Attributes = { 'weft.step': name, 'weft.primitive': 'retry', 'weft.workflow': parent.run.workflow };
      if (maxAttempts !== Infinity) attributes['weft.retry.max_attempts'] = maxAttempts;
      ({ ctx, span } = childSpan(parent, spanName, attributes));
    }
    const first = ctx.attempt === 1 ? ctx : ctx.with({ attempt: 1 });
    if (listening()) emit(first, 'retry', { type: 'retry.attempt', step: name, attempt: 1, maxAttempts, final: maxAttempts === 1 });
    let p: Promise<O>;
    try {
      p = inner(input, first);
    } catch (error) {
      p = Promise.reject(toError(error));
    }
    // Success path: one `.then`, no p-retry, no state object.
    if (span === undefined && retryIf === undefined) {
      return p.then(undefined, (error: unknown) => new RetryRun(config, inner, name, input, ctx, undefined).failed(error));
    }
    return p.then(
      (value) => {
        if (retryIf !== undefined) {
          let again: boolean;
          try {
            again = retryIf(value, 1);
          } catch (error) {
            return new RetryRun(config, inner, name, input, ctx, span).failed(error, true);
          }
          if (again) return new RetryRun(config, inner, name, input, ctx, span).unwanted(value);
        }
        if (span !== undefined) {
          span.setAttribute('weft.retry.attempts', 1);
          endSpan(span);
        }
        return value;
      },
      (error: unknown) => new RetryRun(config, inner, name, input, ctx, span).failed(error),
    );
  };
  return new Primitive(name, 'retry', exec);
}

/** Thrown into p-retry to say "retry: the decision and delay are made". Never escapes. */
const RETRY = new Error('weft: retry scheduled');
/** `decideResult` outcome: give the result back. */
const KEEP = Symbol('keep');

/** The state of one call once its first attempt has failed. */
class RetryRun<I, O> {
  /** The attempt that ran last (1-based). */
  private attempt = 1;
  /** The delay decided for the next sleep. */
  private delay = 0;
  /** The previous delay, for decorrelated jitter. */
  private previous: number;

  constructor(
    private readonly config: Config<O>,
    private readonly inner: Exec<I, O>,
    private readonly name: string,
    private readonly input: I,
    /** The context of the retry (carrying its span), from which each attempt's is derived. */
    private readonly ctx: Ctx,
    private readonly span: Span | undefined,
  ) {
    this.previous = config.minDelay;
  }

  /** Attempt 1 failed (or, with `predicate`, `retryIf` threw): give up, or sleep and hand over to p-retry. */
  failed(thrown: unknown, predicate = false): Promise<O> {
    const final = predicate ? this.giveUp('not_retryable', toError(thrown), toError(thrown)) : this.decideError(thrown);
    if (isThenable<Error | undefined>(final)) return this.finish(final.then((f) => (f === undefined ? this.pause().then(this.loop) : Promise.reject(f))));
    return this.finish(final === undefined ? this.pause().then(this.loop) : Promise.reject(final));
  }

  /** Attempt 1 returned a result that `retryIf` rejected. */
  unwanted(value: O): Promise<O> {
    const decision = this.decideResult(value);
    if (decision === KEEP) return this.finish(Promise.resolve(value));
    return this.finish(decision === undefined ? this.pause().then(this.loop) : Promise.reject(decision));
  }

  /** Attempts 2.. under p-retry, which stops on its AbortError and sleeps through `onFailedAttempt`. */
  private lastError: Error | undefined;

  private readonly loop = (): Promise<O> =>
    pRetry(this.next, {
      // p-retry's first attempt is our second: attempts 2..maxAttempts.
      retries: this.config.maxAttempts - 2,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      onFailedAttempt: this.onFailedAttempt,
    }).then(undefined, (error: unknown) => {
      // Defensive: the decisions below always stop before p-retry's count runs out.
      if (error === RETRY) throw this.config.rethrow ? (this.lastError ?? toError(error)) : new RetryExhaustedError(this.attempt, this.lastError);
      throw error;
    });

  private readonly next = (): Promise<O> => {
    const n = ++this.attempt;
    const scope = this.ctx.scope;
    if (scope.aborted) {
      const error = abortReasonError(scope.reason);
      return Promise.reject(new StopRetrying(this.giveUp('aborted', error, error)));
    }
    const ctx = this.ctx.with({ attempt: n });
    const max = this.config.maxAttempts;
    if (listening()) emit(ctx, 'retry', { type: 'retry.attempt', step: this.name, attempt: n, maxAttempts: max, final: n === max });
    let p: Promise<O>;
    try {
      p = this.inner(this.input, ctx);
    } catch (error) {
      p = Promise.reject(toError(error));
    }
    return p.then(this.settled, this.rejected);
  };

  private readonly settled = (value: O): O => {
    const n = this.attempt;
    const retryIf = this.config.retryIf;
    if (retryIf !== undefined) {
      let again: boolean;
      try {
        again = retryIf(value, n);
      } catch (thrown) {
        const error = toError(thrown);
        throw new StopRetrying(this.giveUp('not_retryable', error, error));
      }
      if (again) {
        const decision = this.decideResult(value);
        if (decision === undefined) throw RETRY;
        if (decision !== KEEP) throw new StopRetrying(decision);
        return value;
      }
    }
    if (listening()) emit(this.ctx, 'retry', { type: 'retry.succeeded', step: this.name, attempts: n });
    return value;
  };

  private readonly rejected = (thrown: unknown): Promise<never> => {
    const final = this.decideError(thrown);
    if (isThenable<Error | undefined>(final)) {
      return final.then((f) => {
        throw f === undefined ? RETRY : new StopRetrying(f);
      });
    }
    return Promise.reject(final === undefined ? RETRY : new StopRetrying(final));
  };

  private readonly onFailedAttempt = (context: RetryContext): Promise<void> =>
    // Only RETRY reaches here (everything else is wrapped in StopRetrying); anything else is a bug: stop.
    context.error === RETRY ? this.pause() : Promise.reject(context.error);

  /** Sleeps the decided delay on the run's scope: an abort wakes it at once and ends the retry. */
  private pause(): Promise<void> {
    return sleep(this.delay, this.ctx.scope, this.config.clock ?? currentClock(), this.config.unref).then(undefined, (thrown: unknown) => {
      const error = toError(thrown);
      throw this.giveUp('aborted', error, error);
    });
  }

  /**
   * After attempt `this.attempt` failed: the error to reject with, or undefined when a retry is
   * scheduled; a promise of either when `retryOn` answers with one.
   */
  private decideError(thrown: unknown): Error | undefined | Promise<Error | undefined> {
    const error = toError(thrown);
    this.lastError = error;
    const n = this.attempt;
    const scope = this.ctx.scope;
    if (scope.aborted) {
      const reason = abortReasonError(scope.reason);
      return this.giveUp('aborted', reason, reason);
    }
    if (isValidationError(error) || isAbortedError(error)) return this.giveUp('not_retryable', error, error);
    let ok: boolean | Promise<boolean>;
    try {
      ok = this.config.retryOn(error, n);
    } catch (predicateError) {
      const e = toError(predicateError);
      return this.giveUp('not_retryable', e, e);
    }
    if (isThenable<boolean>(ok)) {
      return Promise.resolve(ok).then(
        (yes) => this.afterRetryOn(error, yes === true),
        (predicateError: unknown) => {
          const e = toError(predicateError);
          return this.giveUp('not_retryable', e, e);
        },
      );
    }
    return this.afterRetryOn(error, ok === true);
  }

  /** The rest of {@link decideError}, once `retryOn` has answered. */
  private afterRetryOn(error: Error, retryable: boolean): Error | undefined {
    const n = this.attempt;
    const config = this.config;
    if (!retryable) return this.giveUp('not_retryable', error, error);
    if (this.ctx.scope.aborted) {
      // Aborted while an async retryOn was deciding.
      const reason = abortReasonError(this.ctx.scope.reason);
      return this.giveUp('aborted', reason, reason);
    }
    if (n >= config.maxAttempts) return this.giveUp('exhausted', this.exhausted(error), error);
    let hint: number | undefined;
    if (config.hint !== undefined) {
      try {
        hint = config.hint(error);
      } catch (hintError) {
        const e = toError(hintError);
        return this.giveUp('not_retryable', e, e);
      }
      if (!(typeof hint === 'number' && hint >= 0)) hint = undefined;
    }
    if (!this.schedule(hint, error, undefined)) return this.giveUp('deadline', this.exhausted(error), error);
    return undefined;
  }

  /** After `retryIf` rejected `value`: undefined when a retry is scheduled, KEEP to resolve with it, or an abort error. */
  private decideResult(value: O): Error | typeof KEEP | undefined {
    const scope = this.ctx.scope;
    if (scope.aborted) {
      const reason = abortReasonError(scope.reason);
      return this.giveUp('aborted', reason, reason);
    }
    if (this.attempt >= this.config.maxAttempts) {
      this.gaveUpWithResult('exhausted', value);
      return KEEP;
    }
    if (!this.schedule(undefined, undefined, value)) {
      this.gaveUpWithResult('deadline', value);
      return KEEP;
    }
    return undefined;
  }

  /** Computes the next delay; false when it would end at or past the deadline. */
  private schedule(hint: number | undefined, error: Error | undefined, result: unknown): boolean {
    const config = this.config;
    const hinted = hint !== undefined;
    const delay = hinted ? Math.floor(hint < config.maxDelay ? hint : config.maxDelay) : this.scheduled(error);
    const deadline = this.ctx.deadline;
    if (deadline !== undefined && (config.clock ?? currentClock()).now() + delay >= deadline) return false;
    this.delay = delay;
    this.previous = delay;
    const n = this.attempt;
    if (listening()) {
      emit(this.ctx, 'retry', {
        type: 'retry.scheduled',
        step: this.name,
        attempt: n,
        delayMs: delay,
        ...(error === undefined ? { result } : { error }),
        hinted,
        final: false,
      });
    }
    callHook(config.onRetry, { step: this.name, attempt: n, delayMs: delay, hinted, error, ...(error === undefined ? { result } : {}) });
    if (this.span !== undefined) {
      try {
        this.span.addEvent('retry.scheduled', { 'weft.attempt': n, 'weft.retry.delay_ms': delay, 'weft.retry.hinted': hinted });
      } catch {
        // telemetry never breaks a workflow
      }
    }
    return true;
  }

  /** The wait before the next retry when the error gave no hint: `delay()`, then `delays`, then the backoff. */
  private scheduled(error: Error | undefined): number {
    const config = this.config;
    const n = this.attempt;
    if (config.delay !== undefined) {
      let chosen: number | undefined;
      try {
        chosen = config.delay(n, error);
      } catch {
        chosen = undefined; // a throwing schedule falls back to the computed delay
      }
      if (typeof chosen === 'number' && chosen >= 0) return Math.floor(chosen < config.maxDelay ? chosen : config.maxDelay);
    }
    const list = config.delays;
    if (list !== undefined) {
      const d = list[n - 1 < list.length ? n - 1 : list.length - 1]!;
      return Math.floor(d < config.maxDelay ? d : config.maxDelay);
    }
    return backoffDelay(config, n, this.previous);
  }

  private exhausted(error: Error): Error {
    return this.config.rethrow ? error : new RetryExhaustedError(this.attempt, error);
  }

  /** Reports the final failure and returns the error to reject with. */
  private giveUp(reason: RetryGaveUpEvent['reason'], rejection: Error, error: unknown): Error {
    callHook(this.config.onGiveUp, { step: this.name, attempts: this.attempt, reason, error });
    if (listening()) emit(this.ctx, 'retry', { type: 'retry.gave_up', step: this.name, attempts: this.attempt, error, reason, final: true });
    return rejection;
  }

  private gaveUpWithResult(reason: 'exhausted' | 'deadline', result: unknown): void {
    callHook(this.config.onGiveUp, { step: this.name, attempts: this.attempt, reason, error: undefined });
    if (listening()) emit(this.ctx, 'retry', { type: 'retry.gave_up', step: this.name, attempts: this.attempt, error: undefined, result, reason, final: true });
  }

  /** Ends the retry's span, when there is one, with the outcome and the attempt count. */
  private finish(promise: Promise<O>): Promise<O> {
    const span = this.span;
    if (span === undefined) return promise;
    return promise.then(
      (value) => {
        span.setAttribute('weft.retry.attempts', this.attempt);
        endSpan(span);
        return value;
      },
      (error: unknown) => {
        span.setAttribute('weft.retry.attempts', this.attempt);
        failSpan(span, error);
        endSpan(span);
        throw error;
      },
    );
  }
}

function resolve<O>(options: unknown): Config<O> {
  const o = optionsObject('options', options, KNOWN, 'retry');
  const delays = o['delays'];
  if (delays !== undefined && !(Array.isArray(delays) && delays.length > 0 && delays.every((d) => typeof d === 'number' && d >= 0 && d <= MAX_TIMER))) {
    fail('delays', `a non-empty array of delays in ms (0 to ${MAX_TIMER})`, delays);
  }
  const retries = o['retries'] ?? (delays !== undefined ? (delays as number[]).length : DEFAULTS.retries);
  if (typeof retries !== 'number' || !(retries >= 0) || (!Number.isInteger(retries) && retries !== Infinity)) {
    fail('retries', 'a non-negative integer or Infinity', retries);
  }
  const factor = number('factor', o['factor'], DEFAULTS.factor, { min: 1 });
  const minDelay = number('minDelay', o['minDelay'], DEFAULTS.minDelay, { min: 0, max: MAX_TIMER });
  const maxDelay = number('maxDelay', o['maxDelay'], Math.max(DEFAULTS.maxDelay, minDelay, ...((delays as number[] | undefined) ?? [])), { min: 0, max: MAX_TIMER });
  if (maxDelay < minDelay) fail('maxDelay', `a number >= minDelay (${minDelay})`, maxDelay);
  const jitter = oneOf('jitter', o['jitter'], JITTERS, DEFAULTS.jitter);
  const backoff = oneOf('backoff', o['backoff'], BACKOFFS, DEFAULTS.backoff);
  const retryOn = optionalFunction<(error: Error, attempt: number) => boolean | Promise<boolean>>('retryOn', o['retryOn']) ?? defaultRetryOn;
  const retryIf = optionalFunction<(result: O, attempt: number) => boolean>('retryIf', o['retryIf']);
  const random = optionalFunction<() => number>('random', o['random']) ?? DEFAULTS.random;
  const rethrow = optionalBoolean('rethrow', o['rethrow']) ?? DEFAULTS.rethrow;
  const rawHint = o['retryAfter'] ?? DEFAULTS.retryAfter;
  if (typeof rawHint !== 'boolean' && typeof rawHint !== 'function') fail('retryAfter', 'a boolean or a function', rawHint);
  const hint = rawHint === true ? retryAfterFrom : rawHint === false ? undefined : (rawHint as (error: Error) => number | undefined);
  return Object.freeze({
    maxAttempts: retries + 1,
    factor,
    minDelay,
    maxDelay,
    jitter,
    backoff,
    random,
    retryOn,
    retryIf,
    hint,
    rethrow,
    delays: delays === undefined ? undefined : Object.freeze([...(delays as number[])]),
    delay: optionalFunction<(attempt: number, error: Error | undefined) => number | undefined>('delay', o['delay']),
    clock: checkClock('clock', o['clock']),
    unref: optionalBoolean('unref', o['unref']) ?? false,
    onRetry: optionalFunction<(info: RetryInfo) => void>('onRetry', o['onRetry']),
    onGiveUp: optionalFunction<(info: RetryGiveUpInfo) => void>('onGiveUp', o['onGiveUp']),
  });
}

/** The default `retryOn`: retry what {@link classifyError} calls retryable. */
function defaultRetryOn(error: Error): boolean {
  return classifyError(error).retryable;
}
