// A small Weft service process for the multi-process tests: it runs one scenario against the
// built @weft/redis (../dist) and prints one JSON line with what it saw. Usage:
//   node worker.mjs <scenario> <json-args>     with REDIS_URL and WEFT_PREFIX in the environment
import { budget, rateLimit, RateLimiter, recordCost, recoverSagas, saga, step } from '@weft/core';
import { createWeftRedis, redisCache, RedisBudgetStore, RedisRateLimitStore, RedisSagaLog } from '../dist/index.js';

const [scenario, rawArgs = '{}'] = process.argv.slice(2);
const args = JSON.parse(rawArgs);
const redis = createWeftRedis({ url: process.env.REDIS_URL, prefix: process.env.WEFT_PREFIX, commandTimeoutMs: 1_000 });
await redis.ready(5_000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Waits until a start time shared by every worker, so they really run at once. */
const startAt = async () => {
  if (args.startAt) await sleep(Math.max(0, args.startAt - Date.now()));
};
const count = (name) => redis.command(['INCR', redis.key('count', name)]);

const scenarios = {
  /** Runs a cached lookup once; the step counts fleet-wide computations in Redis. */
  async cache() {
    const lookup = redisCache(
      step('lookup', async (id) => {
        await count('lookup');
        await sleep(args.workMs ?? 0);
        return { id, by: process.pid };
      }),
      redis,
      { ttlMs: 60_000 },
    );
    await startAt();
    const values = await Promise.all(Array.from({ length: args.calls ?? 1 }, () => lookup.run(args.id)));
    await sleep(100); // let the cache write land before exiting
    return { values };
  },

  /** Spends against a shared budget until it refuses; each call costs `cost`, reserving `estimate`. */
  async budget() {
    const store = new RedisBudgetStore(redis);
    const spend = budget(
      step('spend', async () => {
        await sleep(args.workMs ?? 5);
        recordCost({ amount: args.cost });
        return 1;
      }),
      { name: 'shared', window: { limit: args.limit, windowMs: 60_000 }, estimate: args.estimate ?? 0, store },
    );
    await startAt();
    let admitted = 0;
    let refused = 0;
    const lane = async () => {
      for (let i = 0; i < args.attempts; i++) {
        try {
          await spend.run(undefined);
          admitted++;
        } catch {
          refused++;
        }
      }
    };
    await Promise.all(Array.from({ length: args.concurrency ?? 1 }, lane));
    return { admitted, refused };
  },

  /** Calls as fast as it can for `durationMs` through a shared limiter in reject mode. */
  async ratelimit() {
    const limiter = new RateLimiter({ key: 'shared', rate: args.rate, per: args.per, burst: args.burst, store: new RedisRateLimitStore(redis), storeTimeoutMs: 500 });
    const call = rateLimit(step('call', async () => 1), limiter);
    await startAt();
    const end = Date.now() + args.durationMs;
    let allowed = 0;
    let limited = 0;
    while (Date.now() < end) {
      try {
        await call.run(undefined);
        allowed++;
      } catch {
        limited++;
      }
      await sleep(2);
    }
    return { allowed, limited };
  },

  /** Starts a saga whose second step never ends; the parent kills this process mid-saga. */
  async 'saga-crash'() {
    const log = new RedisSagaLog(redis);
    const trip = saga(
      [
        { name: 'reserve', step: async (n) => n + 1, compensate: async () => void (await count('released')) },
        {
          name: 'charge',
          step: async () => {
            console.log(JSON.stringify({ inStep: 'charge' }));
            await new Promise(() => {}); // hangs until SIGKILL
          },
          compensate: async ({ outcome }) => void (await count(`refunded-${outcome}`)),
        },
      ],
      { name: 'trip', log, id: () => args.sagaId, leaseMs: 1_000 },
    );
    await trip.run(1);
    return {};
  },

  /** Recovers interrupted sagas at start-up, as a freshly started instance would. */
  async 'saga-recover'() {
    const log = new RedisSagaLog(redis);
    const trip = saga(
      [
        { name: 'reserve', step: async (n) => n + 1, compensate: async () => void (await count('released')) },
        { name: 'charge', step: async (n) => n, compensate: async ({ outcome }) => void (await count(`refunded-${outcome}`)) },
      ],
      { name: 'trip', log, leaseMs: 1_000 },
    );
    await startAt();
    // The dead process's lease lapses within a second; until then its execution is not ours to take.
    let results = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
      results = await recoverSagas(trip);
      if (results.length > 0 || (await log.unfinished('trip')).length === 0) break;
    }
    return { results: results.map((r) => ({ sagaId: r.sagaId, outcome: r.outcome })) };
  },
};

try {
  const run = scenarios[scenario];
  if (run === undefined) throw new Error(`unknown scenario ${scenario}`);
  const out = await run();
  console.log(JSON.stringify({ ok: true, ...out }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error) }));
  process.exitCode = 1;
} finally {
  await redis.close();
}
