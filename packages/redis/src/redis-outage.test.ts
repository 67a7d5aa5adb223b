import { afterAll, beforeAll, expect, it } from 'vitest';
import { budget, CircuitBreaker, fallback, rateLimit, RateLimiter, recordCost, saga, step, type Primitive } from '@weft/core';
import { RedisBudgetStore } from './budget/redis-budget-store.js';
import { redisCache } from './cache/redis-cache.js';
import { shareCircuitBreaker } from './circuit-breaker/share-circuit-breaker.js';
import { RedisRateLimitStore } from './rate-limit/redis-rate-limit-store.js';
import { RedisSagaLog } from './saga/redis-saga-log.js';
import { freePort, RedisServer } from '@weft/test-support';
import { hasRedisServer } from '@weft/test-support';
import { describeWith } from './test-support/redis.js';
import { createWeftRedis, type WeftRedis } from './weft-redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith('redis-server', 'when Redis dies under load and comes back', hasRedisServer(), () => {
  let server: RedisServer;
  let redis: WeftRedis;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    server = new RedisServer(await freePort());
    await server.start();
    redis = createWeftRedis({ url: server.url, prefix: 'outage', commandTimeoutMs: 100, reconnectMaxDelayMs: 200 });
    await redis.ready();
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await redis?.close();
    await server?.kill();
  });

  it('keeps workflows with a fallback succeeding, recovers every store within 1 s of the return, and leaks no rejection', async () => {
    const budgets = new RedisBudgetStore(redis);
    const limits = new RedisRateLimitStore(redis);
    const sagaLog = new RedisSagaLog(redis);

    // A cached lookup: misses while Redis is down, so the step runs.
    const lookup = redisCache(step('lookup', async (id: number) => ({ id })), redis, { ttlMs: 60_000, storeTimeoutMs: 100 });
    // A rate-limited call: falls back to a local bucket.
    const limited = rateLimit(step('limited', async () => 'sent'), new RateLimiter({ key: 'api', rate: 10_000, store: limits, storeTimeoutMs: 100 }));
    // A budgeted call, fail-closed: refused while the store is down, so it needs its fallback path.
    const priced = budget(
      step('priced', async () => {
        recordCost({ amount: 0.001 });
        return 'model';
      }),
      { name: 'llm', window: { limit: 1_000, windowMs: 60_000 }, estimate: 0.001, store: budgets, storeTimeoutMs: 150 },
    );
    const answer: Primitive<undefined, string> = fallback(priced, () => 'canned answer');
    // A shared breaker keeps working locally.
    const breaker = new CircuitBreaker({ name: 'dep', threshold: 100 });
    const shared = shareCircuitBreaker(breaker, redis);
    await shared.synced;
    const guarded = step('dep', async () => 'dep').circuitBreaker(breaker);

    let runs = 0;
    let canned = 0;
    const failures: unknown[] = [];
    let stop = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const outcomes = await Promise.allSettled([lookup.run(i % 7), limited.run(undefined), answer.run(undefined), guarded.run(undefined)]);
        for (const o of outcomes) if (o.status === 'rejected') failures.push(o.reason);
        if (outcomes[2].status === 'fulfilled' && outcomes[2].value === 'canned answer') canned++;
        runs++;
        await sleep(5);
      }
    })();

    await sleep(300);
    await server.kill();
    await sleep(600);
    // While down: new sagas refuse to start.
    await expect(saga([{ name: 'one', step: async () => 1 }] as never, { name: 'down', log: sagaLog }).run(undefined as never)).rejects.toThrow();
    const runsWhileDown = runs;
    await server.start();
    const back = Date.now();

    // Every store answers again (no restart of anything but Redis).
    const recovered = async (probe: () => Promise<unknown>): Promise<number> => {
      for (;;) {
        try {
          await probe();
          return Date.now() - back;
        } catch {
          await sleep(10);
        }
      }
    };
    const times = await Promise.all([
      recovered(() => budgets.tryCharge('probe', 0, 1, 60_000, Date.now())),
      recovered(() => limits.take('probe', 1, { rate: 1, per: 1_000, burst: 1 }, Date.now(), 0)),
      recovered(() => saga([{ name: 'one', step: async () => 1 }] as never, { name: 'up', log: sagaLog }).run(undefined as never)),
      recovered(async () => {
        await lookup.run(1_000);
        await sleep(20);
        const [, keys] = await redis.command<[string, string[]]>(['SCAN', '0', 'MATCH', 'outage:cache:*', 'COUNT', 1000]);
        if (keys.length === 0) throw new Error('cache not written yet');
      }),
    ]);
    stop = true;
    await load;
    shared.stop();

    expect(runsWhileDown).toBeGreaterThan(10);
    // The budget failed closed while Redis was down, and the fallback path served.
    expect(canned).toBeGreaterThan(5);
    console.log(`outage: ${runs} rounds, ${canned} served by the fallback, stores back after ${times.join('/')} ms`);
    expect(failures).toEqual([]);
    for (const t of times) expect(t).toBeLessThan(1_000);
    // The budget is charged in Redis again once it is back.
    expect(await budgets.spent('llm', 60_000, Date.now())).toBeGreaterThan(0);
    await sleep(50);
    expect(unhandled).toEqual([]);
  });
});
