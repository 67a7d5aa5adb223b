import { ROOT_CONTEXT } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAbortedError } from '../errors/aborted-error.js';
import { isRateLimitedError, RateLimitedError } from '../errors/rate-limited-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { Ctx, RunState } from '../internal/ctx.js';
import { Scope } from '../internal/scope.js';
import { step } from '../index.js';
import { manualClock } from '../test-support/manual-clock.js';
import { LocalRateLimitStore, RateLimiter, rateLimit, type RateLimitDecision, type RateLimitStore } from './index.js';

function counter(name = 'call') {
  const seen: number[] = [];
  const primitive = step(name, (n: number) => {
    seen.push(n);
    return n;
  });
  return { primitive, seen };
}

function capture(): { seen: WeftEvent[]; stop: () => void } {
  const seen: WeftEvent[] = [];
  const sub = events.subscribe((e) => {
    if (e.type.startsWith('ratelimit.')) seen.push(e);
  });
  return { seen, stop: () => sub.unsubscribe() };
}

/** A context built by hand: a deadline with no run timer behind it. */
function handCtx(scope: Scope, deadline?: number): Ctx {
  return new Ctx(new RunState('corr-1', undefined, 'wf', {}), 'call', scope, deadline, 1, undefined, ROOT_CONTEXT);
}

const never = (): Promise<RateLimitDecision> => new Promise<RateLimitDecision>(() => {});

afterEach(() => {
  vi.useRealTimers();
});

describe('rateLimit', () => {
  it('lets a burst through at once, then one call per refill interval', async () => {
    let now = 0;
    const { primitive, seen } = counter();
    const limited = rateLimit(primitive, { rate: 2, per: 1_000, burst: 3, clock: () => now });
    expect(await Promise.all([1, 2, 3].map((n) => limited.run(n)))).toEqual([1, 2, 3]);
    await expect(limited.run(4)).rejects.toBeInstanceOf(RateLimitedError);
    now = 499;
    await expect(limited.run(5)).rejects.toBeInstanceOf(RateLimitedError);
    now = 500;
    expect(await limited.run(6)).toBe(6);
    await expect(limited.run(7)).rejects.toBeInstanceOf(RateLimitedError);
    now = 10_000;
    // An idle spell refills only up to burst.
    expect(await Promise.all([8, 9, 10].map((n) => limited.run(n)))).toEqual([8, 9, 10]);
    await expect(limited.run(11)).rejects.toBeInstanceOf(RateLimitedError);
    expect(seen).toEqual([1, 2, 3, 6, 8, 9, 10]);
  });

  it('rejects at once in reject mode with RateLimitedError carrying retryAfter, and emits ratelimit.rejected', async () => {
    let now = 0;
    const { primitive, seen } = counter('quote');
    const limited = primitive.rateLimit({ rate: 10, per: 1_000, burst: 1, clock: () => now, mode: 'reject' });
    await limited.run(1);
    now = 30;
    const { seen: emitted, stop } = capture();
    try {
      const error = await limited.run(2).catch((e: unknown) => e);
      expect(isRateLimitedError(error)).toBe(true);
      expect((error as RateLimitedError).retryAfter).toBe(70);
      expect(emitted).toEqual([expect.objectContaining({ type: 'ratelimit.rejected', limiter: 'quote', retryAfterMs: 70, primitive: 'ratelimit', workflow: 'quote' })]);
    } finally {
      stop();
    }
    expect(seen).toEqual([1]);
  });

  it('reports its name, not its key, when the key is per user', async () => {
    const { primitive } = counter('quote');
    const limiter = new RateLimiter({ key: 'ratelimit.key-7f3a', name: 'per_key', rate: 1, per: 1_000, burst: 1, clock: () => 0 });
    const limited = primitive.rateLimit(limiter);
    await limited.run(1);
    const { seen: emitted, stop } = capture();
    try {
      await limited.run(2).catch(() => undefined);
      expect(emitted).toEqual([expect.objectContaining({ type: 'ratelimit.rejected', limiter: 'per_key' })]);
    } finally {
      stop();
    }
    expect(limiter.key).toBe('ratelimit.key-7f3a');
    expect(() => new RateLimiter({ rate: 1, name: '' })).toThrow(/`name`/);
  });

  it('calls the wrapped primitive synchronously when the local store has a token', () => {
    const { primitive, seen } = counter();
    const limited = rateLimit(primitive, { rate: 1 });
    const pending = limited.run(1);
    expect(seen).toEqual([1]);
    return pending;
  });

  it('waits for the token in wait mode, in arrival order, and emits ratelimit.waited', async () => {
    vi.useFakeTimers();
    const { primitive, seen } = counter('paced');
    const limited = rateLimit(primitive, { rate: 1, per: 100, burst: 1, mode: 'wait' });
    const { seen: emitted, stop } = capture();
    try {
      const all = Promise.all([1, 2, 3].map((n) => limited.run(n)));
      expect(seen).toEqual([1]);
      await vi.advanceTimersByTimeAsync(99);
      expect(seen).toEqual([1]);
      await vi.advanceTimersByTimeAsync(1);
      expect(seen).toEqual([1, 2]);
      await vi.advanceTimersByTimeAsync(100);
      expect(seen).toEqual([1, 2, 3]);
      expect(await all).toEqual([1, 2, 3]);
      expect(emitted.map((e) => e.type === 'ratelimit.waited' && e.waitedMs)).toEqual([100, 200]);
      expect(emitted[0]).toMatchObject({ limiter: 'paced' });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      stop();
    }
  });

  it('rejects at once in wait mode when the token cannot come before the deadline', async () => {
    vi.useFakeTimers();
    const { primitive, seen } = counter();
    const limited = rateLimit(primitive, { rate: 1, per: 100, burst: 1, mode: 'wait' });
    await limited.run(1);
    const fits = limited.run(2, { timeout: 150 });
    // The next token is 200 ms away, the deadline 150 ms: no sleeping, reject now.
    const error = await limited.run(3, { timeout: 150 }).catch((e: unknown) => e);
    expect(isRateLimitedError(error)).toBe(true);
    expect((error as RateLimitedError).retryAfter).toBe(200);
    await vi.advanceTimersByTimeAsync(100);
    expect(await fits).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('bounds the wait by maxWaitMs', async () => {
    vi.useFakeTimers();
    const limited = rateLimit(counter().primitive, { rate: 1, per: 100, burst: 1, mode: 'wait', maxWaitMs: 50 });
    await limited.run(1);
    await expect(limited.run(2)).rejects.toMatchObject({ retryAfter: 100 });
  });

  it('ends the wait at once on abort and gives the reserved token back', async () => {
    vi.useFakeTimers();
    const { primitive, seen } = counter();
    const limited = rateLimit(primitive, { rate: 1, per: 100, burst: 1, mode: 'wait' });
    await limited.run(1);
    const controller = new AbortController();
    const waiting = limited.run(2, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort('user left');
    expect(isAbortedError(await waiting)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    // The refund means the next caller waits for the next token (90 ms), not behind the aborted one.
    const next = limited.run(3);
    await vi.advanceTimersByTimeAsync(90);
    expect(seen).toEqual([1, 3]);
    expect(await next).toBe(3);
  });

  it('ends the wait at once when the scope aborts, with the abort reason', async () => {
    vi.useFakeTimers();
    const limited = rateLimit(counter().primitive, { rate: 1, per: 1_000, burst: 1, mode: 'wait' });
    await limited.run(1);
    const scope = new Scope();
    const waiting = limited.exec(2, handCtx(scope)).catch((e: unknown) => e);
    const reason = new Error('sibling failed');
    scope.abort(reason);
    expect(isAbortedError(await waiting)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('falls back to a local bucket with the same config when the store throws, emitting ratelimit.store_error', async () => {
    const broken: RateLimitStore = {
      take() {
        throw new Error('redis down');
      },
    };
    const { primitive, seen } = counter('api');
    const limited = rateLimit(primitive, { rate: 1, per: 60_000, burst: 2, store: broken, clock: () => 0 });
    const { seen: emitted, stop } = capture();
    try {
      expect(await limited.run(1)).toBe(1);
      expect(await limited.run(2)).toBe(2);
      await expect(limited.run(3)).rejects.toMatchObject({ retryAfter: 60_000 });
      const errors = emitted.filter((e) => e.type === 'ratelimit.store_error');
      expect(errors).toHaveLength(3);
      expect(errors[0]).toMatchObject({ limiter: 'api', reason: 'error', error: expect.objectContaining({ message: 'redis down' }) as unknown });
    } finally {
      stop();
    }
    expect(seen).toEqual([1, 2]);
  });

  it('falls back when an async store rejects or answers something that is not a decision', async () => {
    const rejecting: RateLimitStore = { take: () => Promise.reject(new Error('ECONNRESET')) };
    const garbage: RateLimitStore = { take: () => Promise.resolve({ ok: true } as never) };
    const syncGarbage: RateLimitStore = { take: () => null as never };
    for (const store of [rejecting, garbage, syncGarbage]) {
      const { seen: emitted, stop } = capture();
      try {
        const limited = rateLimit(counter().primitive, { rate: 1, burst: 1, store });
        expect(await limited.run(1)).toBe(1);
        await expect(limited.run(2)).rejects.toBeInstanceOf(RateLimitedError);
        expect(emitted.filter((e) => e.type === 'ratelimit.store_error')).toHaveLength(2);
      } finally {
        stop();
      }
    }
  });

  it('falls back to a local bucket when the store hangs past storeTimeoutMs, leaving no timer', async () => {
    vi.useFakeTimers();
    const { primitive, seen } = counter('api');
    const limited = rateLimit(primitive, { rate: 5, store: { take: never }, storeTimeoutMs: 20 });
    const { seen: emitted, stop } = capture();
    try {
      const pending = limited.run(1);
      await vi.advanceTimersByTimeAsync(19);
      expect(seen).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(seen).toEqual([1]);
      expect(await pending).toBe(1);
      expect(emitted).toEqual([expect.objectContaining({ type: 'ratelimit.store_error', reason: 'timeout', limiter: 'api' })]);
      expect(isTimeoutError((emitted[0] as { error: unknown }).error)).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      stop();
    }
  });

  it('waits for a hanging store no longer than the deadline', async () => {
    vi.useFakeTimers();
    const { primitive, seen } = counter();
    const limited = rateLimit(primitive, { rate: 5, store: { take: never }, storeTimeoutMs: 1_000 });
    const pending = limited.exec(1, handCtx(new Scope(), Date.now() + 30));
    await vi.advanceTimersByTimeAsync(30);
    expect(seen).toEqual([1]);
    expect(await pending).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once when the run aborts while the store is answering', async () => {
    vi.useFakeTimers();
    const limited = rateLimit(counter().primitive, { rate: 5, store: { take: never } });
    const controller = new AbortController();
    const pending = limited.run(1, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(isAbortedError(await pending)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives back what a slow store took after the call fell back', async () => {
    vi.useFakeTimers();
    let answer!: (d: RateLimitDecision) => void;
    const refund = vi.fn();
    const slow: RateLimitStore = {
      take: () => new Promise<RateLimitDecision>((resolve) => (answer = resolve)),
      refund,
    };
    const limited = rateLimit(counter().primitive, { rate: 5, store: slow, storeTimeoutMs: 10 });
    const pending = limited.run(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(await pending).toBe(1);
    answer({ allowed: true, retryAfterMs: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(refund).toHaveBeenCalledTimes(1);
  });

  it('uses an async store that answers, passing key, cost, config, clock and the allowed wait', async () => {
    const take = vi.fn((_key: string, _cost: number, _config: unknown, _now: number, _maxWaitMs: number): Promise<RateLimitDecision> => Promise.resolve({ allowed: false, retryAfterMs: 42 }));
    const { primitive, seen } = counter('llm');
    const limited = rateLimit(primitive, { rate: 10, per: 60_000, burst: 20, cost: 2, store: { take }, clock: () => 1234, mode: 'wait', maxWaitMs: 500 });
    const { seen: emitted, stop } = capture();
    try {
      await expect(limited.run(1)).rejects.toMatchObject({ retryAfter: 42 });
      expect(take).toHaveBeenCalledWith('llm', 2, { rate: 10, per: 60_000, burst: 20 }, 1234, 500);
      expect(emitted.map((e) => e.type)).toEqual(['ratelimit.rejected']);
      take.mockReturnValueOnce(Promise.resolve({ allowed: true, retryAfterMs: 0 }));
      expect(await limited.run(2)).toBe(2);
      expect(seen).toEqual([2]);
    } finally {
      stop();
    }
  });

  it('shares one bucket between every primitive given the same RateLimiter', async () => {
    const limiter = new RateLimiter({ key: 'openai', rate: 1, per: 60_000, burst: 2, clock: () => 0 });
    const summarise = counter('summarise').primitive.rateLimit(limiter);
    const classify = counter('classify').primitive.rateLimit(limiter);
    await summarise.run(1);
    await classify.run(2);
    await expect(summarise.run(3)).rejects.toBeInstanceOf(RateLimitedError);
    await expect(classify.run(4)).rejects.toBeInstanceOf(RateLimitedError);
    expect(limiter).toMatchObject({ key: 'openai', mode: 'reject', cost: 1, config: { rate: 1, per: 60_000, burst: 2 } });
  });

  it('shares a bucket between limiters that share a store and a key', async () => {
    const store = new LocalRateLimitStore();
    const a = rateLimit(counter().primitive, { key: 'shared', rate: 1, burst: 1, store, clock: () => 0 });
    const b = rateLimit(counter().primitive, { key: 'shared', rate: 1, burst: 1, store, clock: () => 0 });
    await a.run(1);
    await expect(b.run(2)).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('defaults burst to the rate and the key to the primitive name', () => {
    const limiter = new RateLimiter({ rate: 10 });
    expect(limiter.config).toEqual({ rate: 10, per: 1_000, burst: 10 });
    expect(limiter.key).toBe('ratelimit');
    expect(new RateLimiter({ rate: 0.5 }).config.burst).toBe(1);
    expect(rateLimit(counter('fetch').primitive, { rate: 1 }).kind).toBe('ratelimit');
  });

  it('rejects at once when the run is already aborted, taking no token', async () => {
    const take = vi.fn(() => ({ allowed: true, retryAfterMs: 0 }));
    const scope = new Scope();
    scope.abort(new Error('gone'));
    const error = await rateLimit(counter().primitive, { rate: 1, store: { take } }).exec(1, handCtx(scope)).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(take).not.toHaveBeenCalled();
  });

  it('throws a TypeError naming the option for bad options', () => {
    const p = counter().primitive;
    expect(() => rateLimit(p, {} as never)).toThrow(/`rate` to be a finite number > 0, got undefined/);
    expect(() => rateLimit(p, { rate: 0 })).toThrow(/`rate`/);
    expect(() => rateLimit(p, { rate: Number.NaN })).toThrow(/`rate`/);
    expect(() => rateLimit(p, { rate: Infinity })).toThrow(/`rate`/);
    expect(() => rateLimit(p, { rate: 1, per: 0 })).toThrow(/`per`/);
    expect(() => rateLimit(p, { rate: 1, burst: 0.5 })).toThrow(/`burst`/);
    expect(() => rateLimit(p, { rate: 1, burst: 2, cost: 3 })).toThrow(/`burst` to be a number >= 3/);
    expect(() => rateLimit(p, { rate: 1, cost: -1 })).toThrow(/`cost`/);
    expect(() => rateLimit(p, { rate: 1, mode: 'queue' as never })).toThrow(/`mode`/);
    expect(() => rateLimit(p, { rate: 1, maxWaitMs: -1 })).toThrow(/`maxWaitMs`/);
    expect(() => rateLimit(p, { rate: 1, key: 'no spaces' })).toThrow(/`key`/);
    expect(() => rateLimit(p, { rate: 1, store: {} as never })).toThrow(/`store`/);
    expect(() => rateLimit(p, { rate: 1, store: { take: () => ({ allowed: true, retryAfterMs: 0 }), refund: 1 } as never })).toThrow(/`store.refund`/);
    expect(() => rateLimit(p, { rate: 1, storeTimeoutMs: -5 })).toThrow(/`storeTimeoutMs`/);
    expect(() => rateLimit(p, { rate: 1, clock: 5 as never })).toThrow(/`clock`/);
    expect(() => rateLimit(p, null as never)).toThrow(/`options`/);
    expect(() => rateLimit({} as never, { rate: 1 })).toThrow(/`primitive`/);
    expect(() => p.rateLimit({ rate: -1 })).toThrow(TypeError);
  });
});

describe('rate limit: clock, hooks and options (issue 13)', () => {
  it('reads time and runs its waits on an injected clock', async () => {
    const clock = manualClock();
    const limited = step('api', () => 'ok').rateLimit({ rate: 1, per: 1_000, burst: 1, mode: 'wait', clock });
    await expect(limited.run(undefined)).resolves.toBe('ok');
    let done = false;
    const second = limited.run(undefined).then((v) => {
      done = true;
      return v;
    });
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    await expect(second).resolves.toBe('ok');
  });

  it('calls onRateLimited with each refusal', async () => {
    const refused: RateLimitedError[] = [];
    const limited = step('api', () => 'ok').rateLimit({ rate: 1, burst: 1, clock: () => 0, onRateLimited: (e) => refused.push(e) });
    await limited.run(undefined);
    await expect(limited.run(undefined)).rejects.toBeInstanceOf(RateLimitedError);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.retryAfter).toBe(1_000);
  });

  it('rejects misspelt options with a suggestion', () => {
    expect(() => new RateLimiter({ rate: 1, brust: 5 } as never)).toThrow('Unknown rateLimit option `brust` (did you mean `burst`?)');
  });
});
