import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.js';

const take = (random: () => number, n: number): number[] => Array.from({ length: n }, () => random());

describe('seededRandom', () => {
  it('gives the same sequence for the same seed', () => {
    expect(take(seededRandom(42), 100)).toEqual(take(seededRandom(42), 100));
  });

  it('gives different sequences for different seeds, including seeds that differ above bit 32', () => {
    const a = take(seededRandom(1), 10);
    expect(take(seededRandom(2), 10)).not.toEqual(a);
    expect(take(seededRandom(2 ** 32 + 1), 10)).not.toEqual(a);
    expect(take(seededRandom(-1), 10)).not.toEqual(take(seededRandom(0), 10));
  });

  it('returns floats in [0, 1), spread evenly', () => {
    const values = take(seededRandom(7), 100_000);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    const buckets = new Array<number>(10).fill(0);
    for (const v of values) buckets[Math.floor(v * 10)]!++;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('rejects a seed that is not a safe integer', () => {
    expect(() => seededRandom(1.5)).toThrow(/`seed`/);
    expect(() => seededRandom(Number.NaN)).toThrow(TypeError);
  });
});
