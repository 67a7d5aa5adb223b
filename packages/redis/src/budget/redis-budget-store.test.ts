import { afterAll, beforeAll, expect, it } from 'vitest';
import { budget, isBudgetExceededError, recordCost, step } from '@weft/core';
import { cleanUp, describeWith, redisReachable, testRedis } from '../test-support/redis.js';
import type { WeftRedis } from '../weft-redis.js';
import { RedisBudgetStore } from './redis-budget-store.js';

describeWith('redis', 'RedisBudgetStore', await redisReachable(), () => {
  let redis: WeftRedis;
  beforeAll(async () => {
    redis = testRedis('budget');
    await redis.ready();
  });
  afterAll(async () => {
    await cleanUp(redis);
    await redis.close();
  });

  it('charges while the budget allows and refuses the amount that would exceed it', async () => {
    const store = new RedisBudgetStore(redis);
    const now = Date.now();
    expect(await store.tryCharge('a', 4, 10, 60_000, now)).toEqual({ allowed: true, spent: 4 });
    expect(await store.tryCharge('a', 6, 10, 60_000, now + 1)).toEqual({ allowed: true, spent: 10 });
    expect(await store.tryCharge('a', 0, 10, 60_000, now + 2)).toEqual({ allowed: false, spent: 10 });
    expect(await store.spent('a', 60_000, now + 3)).toBe(10);
  });

  it('refunds with a negative charge at the reservation time', async () => {
    const store = new RedisBudgetStore(redis);
    const now = Date.now();
    await store.tryCharge('refund', 50, 100, 60_000, now);
    expect(await store.charge('refund', -35, 60_000, now, now + 10)).toBe(15);
    expect(await store.tryCharge('refund', 85, 100, 60_000, now + 20)).toEqual({ allowed: true, spent: 100 });
  });

  it('lets charges expire after the window, never before', async () => {
    const store = new RedisBudgetStore(redis, { buckets: 10 });
    const t0 = 1_700_000_000_000;
    await store.tryCharge('roll', 10, 10, 1_000, t0);
    expect(await store.spent('roll', 1_000, t0 + 999)).toBe(10);
    expect((await store.tryCharge('roll', 1, 10, 1_000, t0 + 999)).allowed).toBe(false);
    expect(await store.spent('roll', 1_000, t0 + 1_100)).toBe(0);
    expect((await store.tryCharge('roll', 1, 10, 1_000, t0 + 1_100)).allowed).toBe(true);
  });

  it('adds amounts exactly, as integer nano-units: ten charges of $0.10 fill a $1 budget to the unit', async () => {
    const store = new RedisBudgetStore(redis);
    const now = Date.now();
    const dime = 100_000_000; // $0.10 in nano-units
    for (let i = 0; i < 10; i++) expect((await store.tryCharge('frac', dime, 10 * dime, 60_000, now)).allowed).toBe(true);
    expect(await store.spent('frac', 60_000, now)).toBe(1_000_000_000);
    expect(await store.tryCharge('frac', 1, 10 * dime, 60_000, now)).toEqual({ allowed: false, spent: 1_000_000_000 });
  });

  it('rejects amounts that are not integer nano-units, naming them', async () => {
    const store = new RedisBudgetStore(redis);
    await expect(store.tryCharge('bad', 0.1, 10, 60_000, Date.now())).rejects.toThrow(/`amount` to be a safe integer of nano-units, got 0.1/);
  });

  it('lets budget() spend a $0.30 window on three $0.10 calls exactly, through Redis', async () => {
    const store = new RedisBudgetStore(redis);
    const tenth = step('tenth', () => {
      recordCost({ amount: 0.1 });
      return 'ok';
    });
    const guarded = budget(tenth, { name: 'exact-window', window: { limit: 0.3, windowMs: 60_000 }, estimate: 0.1, store });
    for (let i = 0; i < 3; i++) await expect(guarded.run(undefined)).resolves.toBe('ok');
    await expect(guarded.run(undefined)).rejects.toMatchObject({ name: 'BudgetExceededError', spent: 0.3, limit: 0.3 });
  });

  it('gives every key a TTL and hashes names that are not identifiers', async () => {
    const store = new RedisBudgetStore(redis);
    await store.tryCharge('api key {sk-123}', 1, 10, 60_000, Date.now());
    const [, keys] = await redis.command<[string, string[]]>(['SCAN', '0', 'MATCH', `${redis.prefix}:budget:*`, 'COUNT', 1000]);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).not.toContain('sk-123');
      expect(await redis.command<number>(['PTTL', k])).toBeGreaterThan(0);
    }
  });

  it('admits exactly the calls that fit when many race for one budget', async () => {
    const store = new RedisBudgetStore(redis);
    const now = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => store.tryCharge('race', 1, 20, 60_000, now)));
    expect(answers.filter((a) => a.allowed)).toHaveLength(20);
    expect(await store.spent('race', 60_000, now)).toBe(20);
  });

  it('plugs into budget() and refuses calls once the window is spent', async () => {
    const store = new RedisBudgetStore(redis);
    const call = step('priced', async () => {
      recordCost({ amount: 1 });
      return 'ok';
    });
    const guarded = budget(call, { name: 'plugged', window: { limit: 3, windowMs: 60_000 }, estimate: 1, store });
    for (let i = 0; i < 3; i++) await expect(guarded.run(undefined)).resolves.toBe('ok');
    const refused = await guarded.run(undefined).catch((e: unknown) => e);
    expect(isBudgetExceededError(refused)).toBe(true);
  });
});
