import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LocalRateLimitStore } from './local-rate-limit-store.js';

const config = { rate: 2, per: 1_000, burst: 3 };

describe('LocalRateLimitStore', () => {
  it('starts full, spends the burst, then refills at rate per period up to burst', () => {
    const store = new LocalRateLimitStore();
    expect([0, 0, 0].map(() => store.take('k', 1, config, 0).allowed)).toEqual([true, true, true]);
    expect(store.take('k', 1, config, 0)).toEqual({ allowed: false, retryAfterMs: 500 });
    expect(store.take('k', 1, config, 499).allowed).toBe(false);
    expect(store.take('k', 1, config, 500)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(store.peek('k', config, 10_000)).toBe(3);
  });

  it('answers synchronously, never with a promise', () => {
    const answer = new LocalRateLimitStore().take('k', 1, config, 0);
    expect(answer).not.toBeInstanceOf(Promise);
    expect(typeof (answer as { then?: unknown }).then).toBe('undefined');
  });

  it('keeps one bucket per key', () => {
    const store = new LocalRateLimitStore();
    const one = { rate: 1, per: 1_000, burst: 1 };
    expect(store.take('a', 1, one, 0).allowed).toBe(true);
    expect(store.take('a', 1, one, 0).allowed).toBe(false);
    expect(store.take('b', 1, one, 0).allowed).toBe(true);
  });

  it('reserves future tokens within maxWaitMs so later callers queue behind', () => {
    const store = new LocalRateLimitStore();
    const one = { rate: 1, per: 100, burst: 1 };
    expect(store.take('k', 1, one, 0, 1_000)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(store.take('k', 1, one, 0, 1_000)).toEqual({ allowed: true, retryAfterMs: 100 });
    expect(store.take('k', 1, one, 0, 1_000)).toEqual({ allowed: true, retryAfterMs: 200 });
    // Beyond maxWaitMs nothing is taken.
    expect(store.take('k', 1, one, 0, 250)).toEqual({ allowed: false, retryAfterMs: 300 });
    expect(store.take('k', 1, one, 0, 1_000)).toEqual({ allowed: true, retryAfterMs: 300 });
  });

  it('gives refunded tokens back, never above burst', () => {
    const store = new LocalRateLimitStore();
    const one = { rate: 1, per: 100, burst: 1 };
    store.take('k', 1, one, 0, 1_000);
    store.take('k', 1, one, 0, 1_000);
    store.refund('k', 1, one, 0);
    expect(store.take('k', 1, one, 0, 1_000)).toEqual({ allowed: true, retryAfterMs: 100 });
    store.refund('k', 5, one, 0);
    expect(store.peek('k', one, 0)).toBe(1);
  });

  it('takes fractional rates and costs without float drift', () => {
    const store = new LocalRateLimitStore();
    const tenth = { rate: 0.1, per: 1, burst: 1 };
    expect(store.take('k', 1, tenth, 0).allowed).toBe(true);
    expect(store.take('k', 1, tenth, 0)).toEqual({ allowed: false, retryAfterMs: 10 });
    expect(store.take('k', 1, tenth, 10).allowed).toBe(true);
  });

  it('survives a clock that goes back', () => {
    const store = new LocalRateLimitStore();
    const one = { rate: 1, per: 100, burst: 1 };
    store.take('k', 1, one, 1_000);
    expect(store.take('k', 1, one, 0).allowed).toBe(false);
    expect(store.take('k', 1, one, 100).allowed).toBe(true);
  });
});

describe('retryAfter rounding (issue 13)', () => {
  it('tells a caller 1 ms short of a token to wait 1 ms, not 2', () => {
    const store = new LocalRateLimitStore();
    const config = { rate: 1, per: 1_000, burst: 1 };
    expect(store.take('k', 1, config, 0).allowed).toBe(true);
    expect(store.take('k', 1, config, 999)).toEqual({ allowed: false, retryAfterMs: 1 });
  });

  it('answers exactly the whole milliseconds until the token is back, for any rate and elapsed time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), (rate, per, elapsed) => {
        const store = new LocalRateLimitStore();
        const config = { rate, per, burst: 1 };
        store.take('k', 1, config, 0);
        const d = store.take('k', 1, config, elapsed);
        // One token takes per / rate ms; in integers: the first whole ms t with t * rate >= per.
        const refillMs = Math.ceil(per / rate);
        const exact = Math.max(1, Math.ceil((per - elapsed * rate) / rate));
        if (elapsed >= refillMs) expect(d.allowed).toBe(true);
        else expect(d).toEqual({ allowed: false, retryAfterMs: exact });
      }),
      { numRuns: 2_000 },
    );
  });
});
