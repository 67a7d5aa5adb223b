import { afterAll, beforeAll, expect, it } from 'vitest';
import { cache, Cache, step, type WeftEvent } from '@weft/core';
import { events } from '@weft/core/events';
import { cleanUp, describeWith, redisReachable, testRedis } from '../test-support/redis.js';
import type { WeftRedis } from '../weft-redis.js';
import { redisCache } from './redis-cache.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { sharedSingleFlight } from './shared-single-flight.js';

async function allKeys(redis: WeftRedis): Promise<string[]> {
  const [, keys] = await redis.command<[string, string[]]>(['SCAN', '0', 'MATCH', `${redis.prefix}:*`, 'COUNT', 10_000]);
  return keys;
}

describeWith('redis', 'redisCache', await redisReachable(), () => {
  let a: WeftRedis;
  let b: WeftRedis;
  beforeAll(async () => {
    a = testRedis('cache');
    // A second client on the same prefix stands for a second instance.
    b = testRedis('unused', { prefix: a.prefix });
    await Promise.all([a.ready(), b.ready()]);
  });
  afterAll(async () => {
    await cleanUp(a);
    await Promise.all([a.close(), b.close()]);
  });

  it('serves a value cached through one client as a hit through another', async () => {
    let calls = 0;
    const fetch = step('fetch-user', async (id: string) => ({ id, n: ++calls }));
    const one = redisCache(fetch, a, { ttlMs: 60_000 });
    const two = redisCache(fetch, b, { ttlMs: 60_000 });
    expect(await one.run('42')).toEqual({ id: '42', n: 1 });
    await new Promise((r) => setTimeout(r, 50)); // the write is in the background
    expect(await two.run('42')).toEqual({ id: '42', n: 1 });
    expect(calls).toBe(1);
  });

  it('keeps raw input out of Redis and gives every key a TTL', async () => {
    const secret = 'alice@example.com';
    const greet = redisCache(step('greet', async (email: string) => `hi ${email.length}`), a, { ttlMs: Infinity, maxTtlMs: 120_000 });
    await greet.run(secret);
    await new Promise((r) => setTimeout(r, 50));
    const keys = await allKeys(a);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).not.toContain('alice');
      const ttl = await a.command<number>(['PTTL', k]);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120_000);
    }
  });

  it('stores each entry encoded once: the cache entry itself, no Keyv envelope around it', async () => {
    const profile = redisCache(step('profile', async (id: string) => ({ id, plan: 'pro' })), a, { namespace: 'once', ttlMs: 60_000 });
    await profile.run('7');
    await new Promise((r) => setTimeout(r, 50)); // the write is in the background
    const key = (await allKeys(a)).find((k) => k.includes(':cache:weft:once:'));
    expect(key).toBeDefined();
    const stored = await a.command<string>(['GET', key!]);
    const entry = JSON.parse(stored) as { v?: unknown; value?: unknown };
    expect(entry.value).toBeUndefined(); // Keyv's envelope would be { value: "<entry as a string>", expires }
    expect(entry.v).toEqual({ id: '7', plan: 'pro' });
    console.log(`[redis-cache] one entry: ${Buffer.byteLength(stored)} bytes`);
    expect(Buffer.byteLength(stored)).toBeLessThan(90);
  });

  it('computes concurrent identical misses once across clients', async () => {
    let calls = 0;
    const slow = step('slow', async (q: string) => {
      calls++;
      await new Promise((r) => setTimeout(r, 150));
      return q.toUpperCase();
    });
    const one = redisCache(slow, a, { ttlMs: 60_000 });
    const two = redisCache(slow, b, { ttlMs: 60_000 });
    const out = await Promise.all([one.run('x'), two.run('x'), one.run('x'), two.run('x')]);
    expect(out).toEqual(['X', 'X', 'X', 'X']);
    expect(calls).toBe(1);
  });

  it('shares a failure with the waiting clients instead of running again', async () => {
    let calls = 0;
    const failing = step('failing', async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 100));
      throw Object.assign(new Error('upstream down'), { code: 'E_UP' });
    });
    const one = redisCache(failing, a);
    const two = redisCache(failing, b);
    const [x, y] = await Promise.all([one.run(1).catch((e: Error) => e), two.run(1).catch((e: Error) => e)]);
    expect((x).message).toBe('upstream down');
    expect((y).message).toBe('upstream down');
    expect((y as Error & { code?: string }).code).toBe('E_UP');
    expect(calls).toBe(1);
  });

  it('lets a waiter take over when the lock holder never finishes', async () => {
    const id = 'orphan';
    const users = new Cache<string, string>({ namespace: 'orphan', store: new RedisCacheStore(a) });
    // Simulate a crashed holder: a lock nobody will release, with a short TTL.
    const lockKey = a.key('sf', `{sf:${await sha256(users.keyFor(id))}}`, 'lock');
    await a.command(['SET', lockKey, 'dead-holder', 'PX', 300]);
    let calls = 0;
    const work = step('orphan', async (s: string) => `${s}:${++calls}`);
    const t0 = Date.now();
    const flight = cache(sharedSingleFlight(work, a, { key: (i, ctx) => users.keyFor(i, ctx), pollMs: 20 }), users);
    expect(await flight.run(id)).toBe('orphan:1');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('throws a TimeoutError after waitTimeoutMs when told to', async () => {
    const users = new Cache<string, string>({ namespace: 'busy', store: new RedisCacheStore(a) });
    const lockKey = a.key('sf', `{sf:${await sha256(users.keyFor('k'))}}`, 'lock');
    await a.command(['SET', lockKey, 'someone', 'PX', 10_000]);
    const flight = cache(sharedSingleFlight(step('busy', async (_: string) => 'never'), a, { key: (i, ctx) => users.keyFor(i, ctx), waitTimeoutMs: 100, onWaitTimeout: 'throw' }), users);
    await expect(flight.run('k')).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('misses and runs the step when Redis is unreachable', async () => {
    const dead = testRedis('dead', { url: 'redis://127.0.0.1:1', commandTimeoutMs: 50 });
    const seen: WeftEvent[] = [];
    const sub = events.subscribe((e) => seen.push(e));
    try {
      const c = redisCache(step('offline', async (n: number) => n * 2), dead, { storeTimeoutMs: 100 });
      expect(await c.run(21)).toBe(42);
      expect(seen.some((e) => e.type === 'cache.request' && 'result' in e && e.result === 'store_error')).toBe(true);
    } finally {
      sub.unsubscribe();
      await dead.close();
    }
  });

  it('rejects unknown options naming them', () => {
    expect(() => sharedSingleFlight(step('x', async () => 1), a, { key: () => 'k', lockTtl: 5 } as never)).toThrow(/lockTtl/);
    expect(() => new RedisCacheStore(a, { maxTtlMs: 0 })).toThrow(/maxTtlMs/);
  });
});

async function sha256(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}
