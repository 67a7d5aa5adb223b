import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffDelay, type BackoffConfig, type RetryJitter } from './backoff.js';

const config = (over: Partial<BackoffConfig>): BackoffConfig => ({ factor: 2, minDelay: 100, maxDelay: 1_000, jitter: 'none', backoff: 'exponential', random: Math.random, ...over });

describe('backoffDelay', () => {
  it('grows exponentially up to the cap with jitter none', () => {
    const c = config({ minDelay: 100, factor: 3, maxDelay: 2_000 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(c, n, 0))).toEqual([100, 300, 900, 2_000, 2_000]);
  });

  it('stays at zero with a zero minDelay however many retries', () => {
    expect(backoffDelay(config({ minDelay: 0 }), 5_000, 0)).toBe(0);
    expect(backoffDelay(config({ minDelay: 0, jitter: 'decorrelated' }), 3, 0)).toBe(0);
  });

  it('reaches the cap instead of overflowing after very many retries', () => {
    expect(backoffDelay(config({ maxDelay: 30_000 }), 10_000, 0)).toBe(30_000);
  });

  it('never exceeds maxDelay nor goes negative, for any jitter and any random source', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<RetryJitter>('none', 'full', 'decorrelated'),
        fc.double({ min: 0, max: 10_000, noNaN: true }),
        fc.double({ min: 0, max: 100_000, noNaN: true }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        // including values a broken source might return
        fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.double(), fc.constant(Number.NaN), fc.constant(1), fc.constant(-1), fc.constant(Infinity)),
        (jitter, minDelay, extra, factor, retry, previous, r) => {
          const maxDelay = minDelay + extra;
          const d = backoffDelay({ jitter, backoff: 'exponential', minDelay, maxDelay, factor, random: () => r }, retry, previous);
          const base = Math.min(maxDelay, minDelay === 0 ? 0 : minDelay * factor ** (retry - 1));
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(maxDelay);
          expect(Number.isInteger(d)).toBe(true);
          if (jitter === 'none') expect(d).toBe(Math.floor(base));
          if (jitter === 'full') expect(d).toBeLessThanOrEqual(base);
          if (jitter === 'decorrelated') expect(d).toBeGreaterThanOrEqual(Math.floor(Math.min(minDelay, maxDelay)));
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('draws full jitter from the whole range [0, base]', () => {
    const c = (r: number) => config({ jitter: 'full', minDelay: 100, random: () => r });
    expect(backoffDelay(c(0), 2, 0)).toBe(0);
    expect(backoffDelay(c(0.999_999), 2, 0)).toBe(199);
  });

  it('draws decorrelated jitter between minDelay and three times the previous delay', () => {
    const c = (r: number) => config({ jitter: 'decorrelated', minDelay: 100, maxDelay: 10_000, random: () => r });
    expect(backoffDelay(c(0), 1, 400)).toBe(100);
    expect(backoffDelay(c(1), 1, 400)).toBe(1_200);
    expect(backoffDelay(c(1), 1, 5_000)).toBe(10_000);
  });
});
