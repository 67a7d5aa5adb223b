import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { budget, CircuitBreaker, isBudgetExceededError, isCircuitOpenError, isRateLimitedError, rateLimit, RateLimiter, recordCost, step } from '@weft/core';
import { describeWith, hasRedisCluster, REDIS_CLUSTER, RedisCluster } from '@weft/test-support';
import { RedisBudgetStore } from './budget/redis-budget-store.js';
import { RedisCacheStore } from './cache/redis-cache-store.js';
import { sharedSingleFlight } from './cache/shared-single-flight.js';
import { shareCircuitBreaker } from './circuit-breaker/share-circuit-breaker.js';
import { RedisRateLimitStore } from './rate-limit/redis-rate-limit-store.js';
import { createWeftRedis, type CommandOptions, type RedisScript, type WeftRedis } from './weft-redis.js';

/** Polls `check` every 10 ms until it holds; fails naming `what` after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describeWith(REDIS_CLUSTER, '@weft/redis on a 3-master Redis Cluster', hasRedisCluster(), () => {
  let cluster: RedisCluster;
  /** Two clients on the same prefix: two processes of one service. */
  let a: WeftRedis;
  let b: WeftRedis;
  /** One plain (non-cluster) client per node, to see what each node holds. */
  let nodes: WeftRedis[];
  const prefix = `weft-test:cluster:${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    cluster = await RedisCluster.launch();
    a = createWeftRedis({ clusterUrls: cluster.urls, prefix, commandTimeoutMs: 2_000 });
    b = createWeftRedis({ clusterUrls: cluster.urls, prefix, commandTimeoutMs: 2_000 });
    nodes = cluster.urls.map((url) => createWeftRedis({ url, prefix: 'node', commandTimeoutMs: 5_000 }));
    await Promise.all([a, b, ...nodes].map((r) => r.ready()));
  });
  afterAll(async () => {
    await Promise.all([a, b, ...(nodes ?? [])].map((r) => r?.close()));
    await cluster?.stop();
  });

  /** The keys matching `pattern` that each node holds, by node. */
  async function keysByNode(pattern: string): Promise<string[][]> {
    return Promise.all(
      nodes.map(async (node) => {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await node.command<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000]);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        return keys;
      }),
    );
  }

  /** Which node holds `key` (-1 when none does). A node that does not serve its slot answers MOVED. */
  async function nodeOf(key: string): Promise<number> {
    const moved = (error: unknown) => (error instanceof Error && error.message.startsWith('MOVED ') ? 0 : Promise.reject(error));
    const held = await Promise.all(nodes.map((node) => node.command<number>(['EXISTS', key]).catch(moved)));
    return held.indexOf(1);
  }

  const keyslot = (key: string): Promise<number> => nodes[0]!.command<number>(['CLUSTER', 'KEYSLOT', key]);

  /** Subscribers of `channel` over the whole cluster (PUBSUB NUMSUB only counts a node's own). */
  async function subscribers(channel: string): Promise<number> {
    const counts = await Promise.all(nodes.map((node) => node.command<[string, number]>(['PUBSUB', 'NUMSUB', channel])));
    return counts.reduce((sum, [, n]) => sum + Number(n), 0);
  }

  it('is a real cluster: a fresh client works once ready() resolves, and keys for different names land on more than one node', async () => {
    const fresh = createWeftRedis({ clusterUrls: cluster.urls, prefix, commandTimeoutMs: 2_000 });
    let announced = 0;
    fresh.onReady(() => announced++);
    try {
      await fresh.ready();
      expect(fresh.isReady).toBe(true);
      await expect(fresh.command(['SET', fresh.key('fresh'), 'yes'])).resolves.toBe('OK');
      expect(announced).toBe(1);
    } finally {
      await fresh.close();
    }

    const info = await nodes[0]!.command<string>(['CLUSTER', 'INFO']);
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_known_nodes:3/);
    expect(info).toMatch(/cluster_slots_assigned:16384/);

    const store = new RedisBudgetStore(a);
    const now = Date.now();
    for (let i = 0; i < 24; i++) expect((await store.tryCharge(`spread-${i}`, 1, 10, 60_000, now)).allowed).toBe(true);
    const byNode = await keysByNode(`${prefix}:budget:*`);
    expect(byNode.flat().sort()).toHaveLength(24); // each key on exactly one node
    expect(byNode.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
    // Each node serves the keys it holds: a plain client reads them there (a MOVED reply would reject).
    for (const [i, keys] of byNode.entries()) for (const k of keys) expect(await nodes[i]!.command<number>(['HLEN', k])).toBe(1);
  });

  it('RedisCacheStore sets, gets and deletes entries on every node, each with a TTL', async () => {
    const one = new RedisCacheStore(a);
    const two = new RedisCacheStore(b);
    const keys = Array.from({ length: 12 }, (_, i) => `entry-${i}`);
    for (const k of keys) expect(await one.set(k, `value of ${k}`, 60_000)).toBe(true);
    for (const k of keys) expect(await two.get(k)).toBe(`value of ${k}`);

    const stored = await keysByNode(`${prefix}:cache:*`);
    expect(stored.flat()).toHaveLength(12);
    expect(stored.filter((s) => s.length > 0).length).toBeGreaterThan(1);
    for (const [i, held] of stored.entries()) {
      for (const k of held) {
        const ttl = await nodes[i]!.command<number>(['PTTL', k]);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
    }

    for (const k of keys) expect(await two.delete(k)).toBe(true);
    for (const k of keys) expect(await one.get(k)).toBeUndefined();
    expect(await one.delete('entry-0')).toBe(false);
    expect((await keysByNode(`${prefix}:cache:*`)).flat()).toHaveLength(0);
  });

  it('sharedSingleFlight runs the loader once for two clients, wakes the waiter over pub/sub, and keeps lock and result in one slot', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let calls = 0;
    const load = step('load-user', async (id: string) => {
      calls++;
      await released;
      return { id, loadedBy: calls };
    });
    // A waiter that only polls every 30 s and throws after 8 s: it finishes in time only if pub/sub wakes it.
    const options = { key: (id: string) => `user:${id}`, pollMs: 30_000, waitTimeoutMs: 8_000, onWaitTimeout: 'throw' as const };
    const one = sharedSingleFlight(load, a, options);
    const two = sharedSingleFlight(load, b, options);

    // See b's lock attempts: it must find the lock held before the holder finishes.
    const replies: unknown[] = [];
    const script = b.script.bind(b);
    const spy = vi.spyOn(b, 'script').mockImplementation(<T>(s: RedisScript, keys: readonly string[], args: readonly (string | number)[], o?: CommandOptions) =>
      script<T>(s, keys, args, o).then((reply) => {
        replies.push(reply);
        return reply;
      }),
    );
    let first: Promise<unknown> = Promise.resolve();
    let second: Promise<unknown> = Promise.resolve();
    try {
      first = one.run('42');
      await until('the holder to start loading', () => calls === 1);
      second = two.run('42');
      await until("b's attempt to find the lock held", () => replies.some((r) => Array.isArray(r) && r[0] === 'held'));
      await until('b to subscribe for the outcome', async () => (await subscribers(`${prefix}:sf`)) >= 1);

      const id = createHash('sha256').update('user:42').digest('hex');
      const lock = `${prefix}:sf:{sf:${id}}:lock`;
      const result = `${prefix}:sf:{sf:${id}}:result`;
      const lockNode = await nodeOf(lock);
      expect(lockNode).toBeGreaterThanOrEqual(0);

      release();
      await expect(Promise.all([first, second])).resolves.toEqual([
        { id: '42', loadedBy: 1 },
        { id: '42', loadedBy: 1 },
      ]);
      expect(calls).toBe(1);
      // The outcome was published next to the lock: ACQUIRE and COMPLETE touch both keys in one script.
      expect(await nodeOf(result)).toBe(lockNode);
      expect(await nodeOf(lock)).toBe(-1);
      expect(await keyslot(lock)).toBe(await keyslot(result));
      expect(await keyslot(lock)).toBe(await keyslot(`{sf:${id}}`));
    } finally {
      // On a failure above, still settle both calls, so nothing rejects after the test.
      release();
      await Promise.allSettled([first, second]);
      spy.mockRestore();
    }
  });

  it('RedisBudgetStore reserves and settles, and a race of two clients never overspends', async () => {
    const storeA = new RedisBudgetStore(a);
    const storeB = new RedisBudgetStore(b);
    const now = Date.now();

    // Reserve and settle at the store: reserve an estimate of 0.5, settle to an actual 0.2.
    expect(await storeA.tryCharge('settle', 500_000_000, 1_000_000_000, 60_000, now)).toEqual({ allowed: true, spent: 500_000_000 });
    expect(await storeB.charge('settle', -300_000_000, 60_000, now, now + 5)).toBe(200_000_000);
    expect(await storeA.tryCharge('settle', 800_000_001, 1_000_000_000, 60_000, now + 6)).toEqual({ allowed: false, spent: 200_000_000 });
    expect(await storeA.tryCharge('settle', 800_000_000, 1_000_000_000, 60_000, now + 7)).toEqual({ allowed: true, spent: 1_000_000_000 });

    // 60 concurrent reservations of 1 against a limit of 25, from both clients: exactly 25 fit.
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? storeA : storeB).tryCharge('race', 1, 25, 60_000, now)));
    expect(answers.filter((x) => x.allowed)).toHaveLength(25);
    expect(Math.max(...answers.map((x) => x.spent))).toBe(25);
    expect(await storeB.spent('race', 60_000, now)).toBe(25);

    // Through budget(): the estimate is reserved, then settled to what the call recorded.
    const cheap = (store: RedisBudgetStore) =>
      budget(
        step('summarise', async () => {
          recordCost({ amount: 0.2 });
          return 'ok';
        }),
        { name: 'settled', window: { limit: 10, windowMs: 60_000 }, estimate: 0.5, store },
      );
    await expect(cheap(storeA).run(undefined)).resolves.toBe('ok');
    await until('the settled spend of 0.2', async () => (await storeB.spent('settled', 60_000, Date.now())) === 200_000_000);

    // 30 calls race for a budget of 1.0 at 0.1 each (estimate = actual), 15 through each client.
    let ran = 0;
    const priced = (store: RedisBudgetStore) =>
      budget(
        step('priced', async () => {
          ran++;
          recordCost({ amount: 0.1 });
          return 'ok';
        }),
        { name: 'raced', window: { limit: 1, windowMs: 60_000 }, estimate: 0.1, store },
      );
    const [pa, pb] = [priced(storeA), priced(storeB)];
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? pa : pb).run(undefined)));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10);
    expect(ran).toBe(10);
    for (const o of refused) expect(isBudgetExceededError(o.reason)).toBe(true);
    expect(await storeA.spent('raced', 60_000, Date.now())).toBe(1_000_000_000);
  });

  it('RedisRateLimitStore keeps one bucket per key for both clients, with keys on more than one node', async () => {
    const storeA = new RedisRateLimitStore(a);
    const storeB = new RedisRateLimitStore(b);
    const config = { rate: 1, per: 1_000, burst: 2 };
    const t0 = 1_700_000_000_000;
    expect(await storeA.take('bucket', 2, config, t0, 0)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(await storeB.take('bucket', 1, config, t0, 0)).toEqual({ allowed: false, retryAfterMs: 1_000 });
    expect(await storeB.take('bucket', 1, config, t0, 1_000)).toEqual({ allowed: true, retryAfterMs: 1_000 });
    await storeA.refund('bucket', 3, config, t0);
    expect(await storeB.take('bucket', 2, config, t0, 0)).toEqual({ allowed: true, retryAfterMs: 0 });

    // Limiters in two "processes" share one bucket of 5: 12 concurrent calls, exactly 5 pass.
    const limited = (redis: WeftRedis) => rateLimit(step('send', async () => 'sent'), new RateLimiter({ key: 'shared', rate: 5, per: 60_000, store: new RedisRateLimitStore(redis) }));
    const [la, lb] = [limited(a), limited(b)];
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? la : lb).run(undefined)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    for (const o of outcomes) if (o.status === 'rejected') expect(isRateLimitedError(o.reason)).toBe(true);

    for (let i = 0; i < 12; i++) await storeA.take(`key-${i}`, 1, config, Date.now(), 0);
    const byNode = await keysByNode(`${prefix}:ratelimit:*`);
    expect(byNode.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
    for (const k of byNode.flat()) expect(k).toMatch(/:\{ratelimit:[^}]+\}$/);
  });

  it('shareCircuitBreaker shares state between two clients over cluster pub/sub, and gives a late joiner the stored state', async () => {
    const one = new CircuitBreaker({ name: 'payments', threshold: 2, openMs: 60_000 });
    const two = new CircuitBreaker({ name: 'payments', threshold: 2, openMs: 60_000 });
    const s1 = shareCircuitBreaker(one, a);
    const s2 = shareCircuitBreaker(two, b);
    const channel = `${prefix}:breaker:{breaker:payments}:changes`;
    try {
      await Promise.all([s1.synced, s2.synced]);
      await until('both clients to subscribe to the breaker channel', async () => (await subscribers(channel)) >= 2);

      const failing = step('charge', async () => {
        throw new Error('503');
      }).circuitBreaker(one);
      await failing.run(undefined).catch(() => undefined);
      await failing.run(undefined).catch(() => undefined);
      expect(one.state).toBe('open');
      await until("the other client's breaker to open", () => two.state === 'open');
      const rejected = await step('charge', async () => 'ok').circuitBreaker(two).run(undefined).catch((e: unknown) => e);
      expect(isCircuitOpenError(rejected)).toBe(true);

      two.reset();
      await until("the first client's breaker to close", () => one.state === 'closed');

      one.isolate();
      const key = `${prefix}:breaker:{breaker:payments}`;
      await until('the isolated state to be stored', async () => ((await a.command<string | null>(['GET', key])) ?? '').includes('isolated'));
      const late = new CircuitBreaker({ name: 'payments', threshold: 2, openMs: 60_000 });
      const s3 = shareCircuitBreaker(late, b);
      await s3.synced;
      expect(late.state).toBe('isolated');
      s3.stop();
    } finally {
      s1.stop();
      s2.stop();
    }
  });
});
