import { afterAll, beforeAll, expect, it } from 'vitest';
import { isRateLimitedError, LocalRateLimitStore, RateLimiter, rateLimit, step } from '@weft/core';
import { cleanUp, describeWith, redisReachable, testRedis } from '../test-support/redis.js';
import type { WeftRedis } from '../weft-redis.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';

describeWith('redis', 'RedisRateLimitStore', await redisReachable(), () => {
  let redis: WeftRedis;
  beforeAll(async () => {
    redis = testRedis('ratelimit');
    await redis.ready();
  });
  afterAll(async () => {
    await cleanUp(redis);
    await redis.close();
  });

  it('answers exactly like the local store for the same sequence of calls', async () => {
    const remote = new RedisRateLimitStore(redis);
    const local = new LocalRateLimitStore();
    const config = { rate: 5, per: 1_000, burst: 3 };
    const t0 = 1_700_000_000_000;
    const script: Array<[number, number, number]> = [
      [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [100, 1, 0], [250, 1, 500], [260, 1, 500], [400, 2, 0], [5_000, 3, 0], [5_000, 1, 1_000],
    ];
    for (const [dt, cost, maxWait] of script) {
      const a = await remote.take('same', cost, config, t0 + dt, maxWait);
      const b = local.take('same', cost, config, t0 + dt, maxWait);
      expect(a).toEqual(b);
    }
  });

  it('refunds reserved tokens up to the burst', async () => {
    const remote = new RedisRateLimitStore(redis);
    const config = { rate: 1, per: 1_000, burst: 2 };
    const t0 = 1_700_000_000_000;
    await remote.take('refund', 2, config, t0, 0);
    expect((await remote.take('refund', 1, config, t0, 0)).allowed).toBe(false);
    await remote.refund('refund', 5, config, t0);
    expect(await remote.take('refund', 2, config, t0, 0)).toEqual({ allowed: true, retryAfterMs: 0 });
  });

  it('never refills from a caller whose clock is behind the last one', async () => {
    const remote = new RedisRateLimitStore(redis);
    const config = { rate: 1, per: 1_000, burst: 1 };
    const t0 = 1_700_000_000_000;
    await remote.take('skew', 1, config, t0 + 5_000, 0);
    expect((await remote.take('skew', 1, config, t0, 0)).allowed).toBe(false);
  });

  it('shares one bucket between limiters using the store', async () => {
    const store = new RedisRateLimitStore(redis);
    const a = rateLimit(step('a', async () => 'a'), new RateLimiter({ key: 'shared', rate: 2, per: 60_000, store }));
    const b = rateLimit(step('b', async () => 'b'), new RateLimiter({ key: 'shared', rate: 2, per: 60_000, store }));
    await a.run(undefined);
    await b.run(undefined);
    const third = await a.run(undefined).catch((e: unknown) => e);
    expect(isRateLimitedError(third)).toBe(true);
  });
});
