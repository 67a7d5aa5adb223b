import { RateLimitedError } from '../errors/rate-limited-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { isThenable } from '../internal/is-thenable.js';
import { sleep } from '../internal/sleep.js';
import { callHook } from '../internal/hooks.js';
import { checkClock, currentClock, type Clock } from '../clock/clock.js';
import { awaitStore } from '../internal/await-store.js';
import { fail, number, oneOf, optionalFunction, optionalNumber, optionsObject, primitiveName } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import { LocalRateLimitStore } from './local-rate-limit-store.js';
import type { RateLimitDecision, RateLimitStore, TokenBucketConfig } from './rate-limit-store.js';

/**
 * What a rate limiter does with a call that finds no token: wait for one, or reject at once.
 *
 * @example
 * ```ts
 * const mode: RateLimitMode = 'wait';
 * ```
 */
export type RateLimitMode = 'wait' | 'reject';

/**
 * Options for {@link RateLimiter} and {@link rateLimit}.
 *
 * @example
 * ```ts
 * const options: RateLimitOptions = { rate: 10, per: 1_000, burst: 20, mode: 'wait', key: 'payments-api' };
 * ```
 */
export interface RateLimitOptions {
  /** Tokens added to the bucket every `per` milliseconds: a positive number. */
  readonly rate: number;
  /**
   * The refill period in milliseconds: `{ rate: 10, per: 1_000 }` is 10 calls a second.
   * @default 1000
   */
  readonly per?: number;
  /**
   * The bucket's capacity: how many calls may go at once after an idle spell. At least `cost`.
   * @default the larger of `rate` and `cost`
   */
  readonly burst?: number;
  /**
   * `reject`: a call without a token rejects at once with `RateLimitedError` carrying `retryAfter`.
   * `wait`: it waits for its token (in FIFO order), unless the token cannot come before the run's
   * deadline (or `maxWaitMs`), in which case it rejects at once; an abort ends the wait at once.
   * @default 'reject'
   */
  readonly mode?: RateLimitMode;
  /**
   * Tokens each call takes: a positive number, at most `burst`.
   * @default 1
   */
  readonly cost?: number;
  /**
   * In `wait` mode, the longest a call may wait for its token, further bounded by the run's deadline.
   * @default Infinity
   */
  readonly maxWaitMs?: number;
  /**
   * The bucket's key in the store: a short name written in code. Limiters with the same key and
   * store share one bucket (across processes, with a remote store).
   * @default the wrapped primitive's name for `rateLimit(p, options)`; `"ratelimit"` for `new RateLimiter()`
   */
  readonly key?: string;
  /**
   * The limiter's name in events, spans and metric labels, when the key is not fit for them: a key
   * built per user or per API key must never become a label, so give those limiters one shared name.
   * @default the key
   */
  readonly name?: string;
  /**
   * Where the bucket lives.
   * @default a new {@link LocalRateLimitStore} of this limiter's own
   */
  readonly store?: RateLimitStore;
  /**
   * How long an asynchronous store may take (further bounded by the run's deadline) before the call
   * falls back to a local bucket with the same config, emitting `ratelimit.store_error`.
   * @default 50
   */
  readonly storeTimeoutMs?: number;
  /**
   * The clock: its time is passed to the store, and its timers run the waits in `wait` mode. A
   * bare function is read as the time only (kept for older code).
   * @default the current clock (`useClock`), else the system clock (`Date.now()`, read at each call)
   */
  readonly clock?: Clock | (() => number);
  /** Called with each refusal, before the caller sees it; must not throw (a throw is swallowed). */
  readonly onRateLimited?: (error: RateLimitedError) => void;
}

const DEFAULTS = {
  per: 1000,
  mode: 'reject',
  cost: 1,
  maxWaitMs: Infinity,
  key: 'ratelimit',
  storeTimeoutMs: 50,
} as const satisfies Required<Omit<RateLimitOptions, 'rate' | 'burst' | 'store' | 'clock' | 'onRateLimited' | 'name'>>;

const KNOWN = ['rate', 'per', 'burst', 'mode', 'cost', 'maxWaitMs', 'key', 'name', 'store', 'storeTimeoutMs', 'clock', 'onRateLimited'] as const;

/** The largest delay setTimeout honours; waits are never planned beyond it. */
const MAX_TIMER = 2_147_483_647;

/**
 * A token bucket rate limit, shareable by several primitives: they all draw from one bucket.
 * The bucket lives in a {@link RateLimitStore}: in memory by default, or remote (Redis) so that
 * processes share it. A store that fails or is too slow never fails or stalls a call: the call
 * uses a local bucket with the same config instead, and `ratelimit.store_error` is emitted.
 *
 * @example
 * ```ts
 * const openai = new RateLimiter({ key: 'openai', rate: 500, per: 60_000, burst: 50, mode: 'wait' });
 * const summarise = step('summarise', callModel).rateLimit(openai);
 * const classify = step('classify', callModel).rateLimit(openai);
 * ```
 */
export class RateLimiter {
  /** Recognises instances from any installed copy of `@weft/core`, so a shared one is never silently replaced. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[Symbol.for('weft.rate-limiter.v1')] === true;
  }
  /** The bucket's key in the store. */
  readonly key: string;
  /** The name in events, spans and metric labels (the key unless `name` was given). */
  readonly name: string;
  /** What a call without a token does. */
  readonly mode: RateLimitMode;
  /** Tokens each call takes. */
  readonly cost: number;
  /** The bucket's shape, as passed to the store. */
  readonly config: TokenBucketConfig;
  /** The longest wait in `wait` mode, before the deadline bounds it. */
  readonly maxWaitMs: number;
  /** How long an asynchronous store may take before the local fallback is used. */
  readonly storeTimeoutMs: number;
  /** Where the bucket lives. */
  readonly store: RateLimitStore;
  private readonly nowFn: (() => number) | undefined;
  private readonly clockOption: Clock | undefined;
  private readonly onRateLimited: ((error: RateLimitedError) => void) | undefined;
  /** The bucket used when the store fails; the store itself when it is local. */
  private readonly local: LocalRateLimitStore;

  /**
   * @param options the bucket and its behaviour; see {@link RateLimitOptions}.
   * @param defaultKey @internal the key when `options.key` is absent (the wrapped primitive's name).
   */
  constructor(options: RateLimitOptions, defaultKey: string = DEFAULTS.key) {
    const o = optionsObject('options', options, KNOWN, 'rateLimit');
    const rate = positive('rate', o.rate, undefined);
    const per = positive('per', o.per, DEFAULTS.per);
    const cost = positive('cost', o.cost, DEFAULTS.cost);
    const burst = optionalNumber('burst', o.burst, { min: cost }) ?? Math.max(rate, cost);
    this.config = Object.freeze({ rate, per, burst });
    this.cost = cost;
    this.mode = oneOf<RateLimitMode>('mode', o.mode, ['wait', 'reject'], DEFAULTS.mode);
    this.maxWaitMs = number('maxWaitMs', o.maxWaitMs, DEFAULTS.maxWaitMs, { min: 0, finite: false });
    this.storeTimeoutMs = number('storeTimeoutMs', o.storeTimeoutMs, DEFAULTS.storeTimeoutMs, { min: 0, max: MAX_TIMER });
    this.key = o.key === undefined ? defaultKey : primitiveName('key', o.key);
    this.name = o.name === undefined ? this.key : primitiveName('name', o.name);
    if (typeof o.clock === 'function') this.nowFn = o.clock as () => number;
    else this.clockOption = checkClock('clock', o.clock);
    this.onRateLimited = optionalFunction<(error: RateLimitedError) => void>('onRateLimited', o.onRateLimited);
    const store = o.store;
    if (store === undefined) {
      this.local = new LocalRateLimitStore();
      this.store = this.local;
    } else {
      if (typeof store !== 'object' || store === null || typeof (store as RateLimitStore).take !== 'function') fail('store', 'a RateLimitStore (an object with a take method)', store);
      optionalFunction('store.refund', (store as { refund?: unknown }).refund);
      this.store = store as RateLimitStore;
      this.local = store instanceof LocalRateLimitStore ? store : new LocalRateLimitStore();
    }
  }

  /**
   * @internal Takes this call's token. Returns undefined when the call may go now (no promise on
   * the synchronous path), a promise that resolves when it may go, or one that rejects with
   * `RateLimitedError` or the abort reason.
   */
  acquire(ctx: Ctx): Promise<void> | undefined {
    const maxWait = this.mode === 'wait' ? this.maxWait(ctx) : 0;
    const store = this.store;
    let answer: RateLimitDecision | PromiseLike<RateLimitDecision>;
    try {
      answer = store.take(this.key, this.cost, this.config, this.now(), maxWait);
    } catch (error) {
      return this.fallback(ctx, error, 'error');
    }
    if (isThenable<RateLimitDecision>(answer)) return this.awaitStore(ctx, answer);
    if (!isDecision(answer)) return this.fallback(ctx, invalid(answer), 'error');
    return this.decide(ctx, answer, store);
  }

  /** The time in ms: the `clock` option's, else the current clock's. */
  private now(): number {
    return this.nowFn !== undefined ? this.nowFn() : (this.clockOption ?? currentClock()).now();
  }

  private maxWait(ctx: Ctx): number {
    const remaining = ctx.deadline === undefined ? Infinity : ctx.deadline - this.now();
    return Math.max(0, Math.min(this.maxWaitMs, remaining, MAX_TIMER));
  }

  private decide(ctx: Ctx, d: RateLimitDecision, from: RateLimitStore): Promise<void> | undefined {
    if (d.allowed) {
      const ms = d.retryAfterMs;
      return ms > 0 ? this.wait(ctx, ms, from) : undefined;
    }
    const retryAfter = Math.max(0, d.retryAfterMs);
    if (listening()) emit(ctx, 'ratelimit', { type: 'ratelimit.rejected', limiter: this.name, retryAfterMs: retryAfter });
    const error = new RateLimitedError(retryAfter);
    callHook(this.onRateLimited, error);
    return Promise.reject(error);
  }

  private wait(ctx: Ctx, ms: number, from: RateLimitStore): Promise<void> {
    return sleep(ms, ctx.scope, this.clockOption ?? currentClock()).then(
      () => {
        if (listening()) emit(ctx, 'ratelimit', { type: 'ratelimit.waited', limiter: this.name, waitedMs: ms });
      },
      (error: unknown) => {
        // The reserved tokens will not be used: give them back so later callers need not wait for them.
        this.refund(from);
        throw error;
      },
    );
  }

  private refund(from: RateLimitStore): void {
    if (from.refund === undefined) return;
    try {
      const out = from.refund(this.key, this.cost, this.config, this.now());
      if (isThenable(out)) out.then(undefined, noop);
    } catch {
      // A refund is best effort.
    }
  }

  private fallback(ctx: Ctx, error: unknown, reason: 'error' | 'timeout'): Promise<void> | undefined {
    if (listening()) emit(ctx, 'ratelimit', { type: 'ratelimit.store_error', limiter: this.name, reason, error: toError(error) });
    const local = this.local;
    const maxWait = this.mode === 'wait' ? this.maxWait(ctx) : 0;
    return this.decide(ctx, local.take(this.key, this.cost, this.config, this.now(), maxWait), local);
  }

  /** Waits for an asynchronous store, but never longer than `storeTimeoutMs`, the deadline or an abort. */
  private awaitStore(ctx: Ctx, answer: PromiseLike<RateLimitDecision>): Promise<void> {
    const scope = ctx.scope;
    const limit = Math.max(0, Math.min(this.storeTimeoutMs, ctx.deadline === undefined ? Infinity : ctx.deadline - this.now()));
    const late = (d: RateLimitDecision): void => {
      // Too late: we fell back or aborted. Give back what the store took for us.
      if (isDecision(d) && d.allowed) this.refund(this.store);
    };
    return awaitStore(answer, { ms: limit, what: 'Rate limit store', scope, late, clock: this.clockOption }).then((a) => {
      if (!a.ok) return this.fallback(ctx, a.error, a.reason);
      return isDecision(a.value) ? this.decide(ctx, a.value, this.store) : this.fallback(ctx, invalid(a.value), 'error');
    });
  }
}

/**
 * A limiter to share, or options for one of the wrapped primitive's own.
 *
 * @example
 * ```ts
 * step('a', fa).rateLimit({ rate: 5 }); // its own bucket
 * step('b', fb).rateLimit(sharedLimiter); // a shared bucket
 * ```
 */
export type RateLimitArg = RateLimitOptions | RateLimiter;

/**
 * Limits how often `primitive` runs, with a token bucket: `burst` calls at once, refilled at `rate`
 * tokens every `per` ms. In `reject` mode (the default) a call without a token rejects at once with
 * `RateLimitedError` whose `retryAfter` (ms) says when to come back (`ratelimit.rejected`); in
 * `wait` mode it waits its turn (`ratelimit.waited`), unless its token cannot come before its
 * deadline. Pass a {@link RateLimiter} to share one bucket between primitives.
 *
 * @example
 * ```ts
 * const limited = rateLimit(callApi, { rate: 10, per: 1_000, burst: 20, mode: 'wait' });
 * // or callApi.rateLimit({ rate: 10, per: 1_000, burst: 20, mode: 'wait' })
 * ```
 */
export function rateLimit<I, O>(primitive: Primitive<I, O>, options: RateLimitArg): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const limiter = options instanceof RateLimiter ? options : new RateLimiter(options, primitive.name);
  const inner = primitive.exec;
  const go = (input: I, ctx: Ctx): Promise<O> => {
    try {
      return inner(input, ctx);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  };
  const exec: Exec<I, O> = (input, ctx) => {
    const scope = ctx.scope;
    if (scope.aborted) return Promise.reject(abortReasonError(scope.reason));
    const gate = limiter.acquire(ctx);
    return gate === undefined ? go(input, ctx) : gate.then(() => go(input, ctx));
  };
  return new Primitive(primitive.name, 'ratelimit', exec);
}

/** A finite number > 0, or the default when absent (required when the default is undefined). */
function positive(option: string, value: unknown, defaults: number | undefined): number {
  if (value === undefined && defaults !== undefined) return defaults;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(option, 'a finite number > 0', value);
  return value;
}

function isDecision(value: unknown): value is RateLimitDecision {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as RateLimitDecision;
  return typeof d.allowed === 'boolean' && typeof d.retryAfterMs === 'number' && !Number.isNaN(d.retryAfterMs);
}

function invalid(value: unknown): TypeError {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new TypeError(`Expected the rate limit store to answer { allowed: boolean, retryAfterMs: number }, got ${shown}`);
}

function noop(): void {}

Object.defineProperty(RateLimiter.prototype, Symbol.for('weft.rate-limiter.v1'), { value: true });
