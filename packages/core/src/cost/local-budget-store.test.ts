import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LocalBudgetStore } from './local-budget-store.js';

const HOUR = 3_600_000;

describe('LocalBudgetStore', () => {
  it('charges while the spend fits and refuses when it would not', () => {
    const store = new LocalBudgetStore();
    expect(store.tryCharge('k', 6, 10, HOUR, 0)).toEqual({ allowed: true, spent: 6 });
    expect(store.tryCharge('k', 5, 10, HOUR, 1)).toEqual({ allowed: false, spent: 6 });
    expect(store.tryCharge('k', 4, 10, HOUR, 2)).toEqual({ allowed: true, spent: 10 });
    // exhausted: even a zero estimate is refused
    expect(store.tryCharge('k', 0, 10, HOUR, 3)).toEqual({ allowed: false, spent: 10 });
    expect(store.spent('k', HOUR, 3)).toBe(10);
    expect(store.spent('other', HOUR, 3)).toBe(0);
  });

  it('lets charges expire after the window, never before it and at most one bucket late', () => {
    const store = new LocalBudgetStore({ buckets: 60 }); // buckets of one minute
    const t0 = 10 * HOUR + 30_000; // half-way through a bucket
    store.tryCharge('k', 5, 10, HOUR, t0);
    expect(store.spent('k', HOUR, t0 + HOUR - 1)).toBe(5);
    expect(store.spent('k', HOUR, t0 + HOUR)).toBe(5); // up to one bucket late
    expect(store.spent('k', HOUR, t0 + HOUR + 60_000)).toBe(0);
  });

  it('attributes a correction to the time of the reservation it corrects', () => {
    const store = new LocalBudgetStore({ buckets: 60 });
    store.tryCharge('k', 5, 10, HOUR, 0);
    expect(store.charge('k', -3, HOUR, 0, 30 * 60_000)).toBe(2);
    expect(store.charge('k', 1, HOUR, 30 * 60_000, 30 * 60_000)).toBe(3);
    // the reservation and its refund expire together; the later charge stays
    expect(store.spent('k', HOUR, HOUR + 60_000)).toBe(1);
  });

  it('drops a charge attributed to a time already out of the window', () => {
    const store = new LocalBudgetStore();
    store.tryCharge('k', 1, 10, HOUR, 5 * HOUR);
    expect(store.charge('k', 4, HOUR, 0, 5 * HOUR)).toBe(1);
  });

  it('never reports a negative spend', () => {
    const store = new LocalBudgetStore();
    expect(store.charge('k', -5, HOUR, 0, 0)).toBe(0);
    expect(store.tryCharge('k', 1, 10, HOUR, 0)).toEqual({ allowed: true, spent: 1 });
  });

  it('keeps bounded memory: at most buckets + 1 per key, and forgets drained keys', () => {
    const store = new LocalBudgetStore({ buckets: 10 });
    for (let t = 0; t < 100 * HOUR; t += 60_000) store.tryCharge('k', 0.0001, 1e9, HOUR, t);
    const tallies = (store as unknown as { tallies: Map<string, { buckets: Map<number, number> }> }).tallies;
    expect(tallies.get('k')!.buckets.size).toBeLessThanOrEqual(11);
    store.spent('k', HOUR, 200 * HOUR);
    expect(tallies.has('k')).toBe(false);
    store.tryCharge('a', 1, 10, HOUR, 0);
    store.reset();
    expect(store.spent('a', HOUR, 0)).toBe(0);
  });

  it('never forgets a charge early, forgets it at most one bucket late, and never lets tryCharge pass the limit', () => {
    const windowMs = 10_000;
    const buckets = 10;
    const bucketMs = windowMs / buckets;
    fc.assert(
      fc.property(fc.array(fc.record({ dt: fc.integer({ min: 0, max: 4_000 }), amount: fc.integer({ min: 0, max: 5 }) }), { maxLength: 60 }), (ops) => {
        const store = new LocalBudgetStore({ buckets });
        const charged: Array<{ t: number; amount: number }> = [];
        let now = 0;
        for (const { dt, amount } of ops) {
          now += dt;
          const r = store.tryCharge('k', amount, 12, windowMs, now);
          if (r.allowed) charged.push({ t: now, amount });
          const sumSince = (from: number) => charged.filter((c) => c.t > from).reduce((a, c) => a + c.amount, 0);
          const spent = store.spent('k', windowMs, now);
          expect(spent).toBeGreaterThanOrEqual(sumSince(now - windowMs)); // never early
          expect(spent).toBeLessThanOrEqual(sumSince(now - windowMs - bucketMs)); // at most a bucket late
          expect(spent).toBeLessThanOrEqual(12);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('throws a TypeError naming `buckets`', () => {
    expect(() => new LocalBudgetStore({ buckets: 0 })).toThrow(/`buckets`/);
    expect(() => new LocalBudgetStore({ buckets: 1.5 })).toThrow(/`buckets`/);
  });
});
