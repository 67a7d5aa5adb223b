import { afterAll, beforeAll, expect, it } from 'vitest';
import { isTimeoutError, step } from '@weft/core';
import { cleanUp, describeWith, redisReachable, testRedis } from './test-support/redis.js';
import { createWeftRedis, defineScript, type WeftRedis } from './weft-redis.js';

describeWith('redis', 'createWeftRedis', await redisReachable(), () => {
  let redis: WeftRedis;
  beforeAll(async () => {
    redis = testRedis('client', { commandTimeoutMs: 200 });
    await redis.ready();
  });
  afterAll(async () => {
    await cleanUp(redis);
    await redis.close();
  });

  it('rejects bad options naming them', () => {
    expect(() => createWeftRedis({ url: 'http://x' })).toThrow(/`url`/);
    expect(() => createWeftRedis({ prefix: 'a{b}' })).toThrow(/`prefix`/);
    expect(() => createWeftRedis({ commandTimeoutMs: 0 })).toThrow(/`commandTimeoutMs`/);
    expect(() => createWeftRedis({ clusterUrls: ['redis://a:6379', 'http://b'] })).toThrow(/`clusterUrls`/);
    expect(() => createWeftRedis({ clusterUrls: 'redis://a:6379' as never })).toThrow(/`clusterUrls`/);
    expect(() => createWeftRedis({ timeout: 5 } as never)).toThrow(/timeout/);
  });

  // A blocking command stands for a slow server. It holds its connection server-side, so each of
  // these tests uses a client of its own.
  it('bounds a slow command by commandTimeoutMs with a TimeoutError', async () => {
    const slow = testRedis('slow', { commandTimeoutMs: 200 });
    await slow.ready();
    const t0 = Date.now();
    const error = await slow.command(['BLPOP', slow.key('never'), 1]).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(600);
    await slow.close();
  });

  it('bounds a command by the deadline of the run it is made in', async () => {
    const slow = testRedis('slow', { commandTimeoutMs: 5_000 });
    await slow.ready();
    const blocking = step('blocking', () => slow.command(['BLPOP', slow.key('never'), 1]));
    const t0 = Date.now();
    await expect(blocking.run(undefined, { timeout: 80 })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - t0).toBeLessThan(600);
    await slow.close();
  });

  it('runs scripts with EVALSHA, loading them on first use', async () => {
    const incr = defineScript(`return redis.call('INCRBY', KEYS[1], ARGV[1]) -- ${Math.random()}`);
    expect(await redis.script<number>(incr, [redis.key('n')], [2])).toBe(2);
    expect(await redis.script<number>(incr, [redis.key('n')], [3])).toBe(5);
  });

  it('delivers pub/sub messages and stops after unsubscribe', async () => {
    const got: string[] = [];
    const channel = redis.key('chan');
    const off = redis.subscribe(channel, (m) => got.push(m));
    for (let i = 0; got.length === 0 && i < 100; i++) {
      await redis.command(['PUBLISH', channel, 'hello']);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(got[0]).toBe('hello');
    off();
  });

  it('rejects calls after close, and closes idempotently even when Redis is unreachable', async () => {
    const other = testRedis('closing');
    await other.ready();
    await other.close();
    await other.close();
    await expect(other.command(['PING'])).rejects.toMatchObject({ code: 'REDIS_CLOSED' });
    const dead = createWeftRedis({ url: 'redis://127.0.0.1:1' });
    await expect(dead.ready(100)).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(dead.command(['PING'])).rejects.toThrow();
    await dead.close();
    expect(dead.closed).toBe(true);
  });
});
