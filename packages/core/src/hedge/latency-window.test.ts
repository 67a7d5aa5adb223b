import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LatencyWindow } from './latency-window.js';

function nearestRank(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

describe('LatencyWindow', () => {
  it('is NaN while empty', () => {
    expect(new LatencyWindow(10).quantile(0.5)).toBeNaN();
  });

  it('computes the nearest-rank quantile', () => {
    const w = new LatencyWindow(100);
    for (let i = 1; i <= 100; i++) w.record(i);
    expect(w.quantile(0.95)).toBe(95);
    expect(w.quantile(0.5)).toBe(50);
    expect(w.quantile(1)).toBe(100);
    expect(w.quantile(0.001)).toBe(1);
  });

  it('keeps only the most recent samples, overwriting the oldest', () => {
    const w = new LatencyWindow(3);
    for (const ms of [1000, 1000, 1000, 1, 2, 3]) w.record(ms);
    expect(w.size).toBe(3);
    expect(w.quantile(1)).toBe(3);
  });

  it('recomputes the cached quantile after a new sample', () => {
    const w = new LatencyWindow(10);
    w.record(5);
    expect(w.quantile(0.9)).toBe(5);
    w.record(50);
    expect(w.quantile(0.9)).toBe(50);
    expect(w.quantile(0.5)).toBe(5);
  });

  it('agrees with sorting for any samples and quantile', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (capacity, samples, q) => {
          const w = new LatencyWindow(capacity);
          for (const s of samples) w.record(s);
          const kept = samples.slice(-capacity);
          expect(w.quantile(q)).toBe(nearestRank(kept, q));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
