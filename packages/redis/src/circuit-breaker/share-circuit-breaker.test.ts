import { afterAll, beforeAll, expect, it } from 'vitest';
import { CircuitBreaker, isCircuitOpenError, step } from '@weft/core';
import { cleanUp, describeWith, redisReachable, testRedis } from '../test-support/redis.js';
import type { WeftRedis } from '../weft-redis.js';
import { shareCircuitBreaker } from './share-circuit-breaker.js';

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describeWith('redis', 'shareCircuitBreaker', await redisReachable(), () => {
  let a: WeftRedis;
  let b: WeftRedis;
  beforeAll(async () => {
    a = testRedis('breaker');
    b = testRedis('unused', { prefix: a.prefix });
    await Promise.all([a.ready(), b.ready()]);
  });
  afterAll(async () => {
    await cleanUp(a);
    await Promise.all([a.close(), b.close()]);
  });

  it('opens the breaker of every instance when one trips, and closes them together', async () => {
    const one = new CircuitBreaker({ name: 'payments', threshold: 2, openMs: 60_000 });
    const two = new CircuitBreaker({ name: 'payments', threshold: 2, openMs: 60_000 });
    const s1 = shareCircuitBreaker(one, a);
    const s2 = shareCircuitBreaker(two, b);
    await Promise.all([s1.synced, s2.synced]);
    await new Promise((r) => setTimeout(r, 50)); // subscriptions are up
    const failing = step('charge', async () => {
      throw new Error('503');
    }).circuitBreaker(one);
    await failing.run(undefined).catch(() => undefined);
    await failing.run(undefined).catch(() => undefined);
    expect(one.state).toBe('open');
    await until(() => two.state === 'open');
    const rejected = await step('charge', async () => 'ok').circuitBreaker(two).run(undefined).catch((e: unknown) => e);
    expect(isCircuitOpenError(rejected)).toBe(true);
    one.reset();
    await until(() => two.state === 'closed');
    s1.stop();
    s2.stop();
  });

  it('gives a late joiner the stored state', async () => {
    const early = new CircuitBreaker({ name: 'search', threshold: 1, openMs: 60_000 });
    const s1 = shareCircuitBreaker(early, a);
    await s1.synced;
    const handle = early.isolate();
    await new Promise((r) => setTimeout(r, 50));
    const late = new CircuitBreaker({ name: 'search', threshold: 1, openMs: 60_000 });
    const s2 = shareCircuitBreaker(late, b);
    await s2.synced;
    expect(late.state).toBe('isolated');
    handle.release();
    s1.stop();
    s2.stop();
  });

  it('stops applying remote changes after stop()', async () => {
    const one = new CircuitBreaker({ name: 'mail', threshold: 1, openMs: 60_000 });
    const two = new CircuitBreaker({ name: 'mail', threshold: 1, openMs: 60_000 });
    const s1 = shareCircuitBreaker(one, a);
    const s2 = shareCircuitBreaker(two, b);
    await Promise.all([s1.synced, s2.synced]);
    s2.stop();
    one.isolate();
    await new Promise((r) => setTimeout(r, 100));
    expect(two.state).toBe('closed');
    s1.stop();
  });
});
