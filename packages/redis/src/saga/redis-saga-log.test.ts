import { afterAll, beforeAll, expect, it } from 'vitest';
import { recoverSagas, saga } from '@weft/core';
import { cleanUp, describeWith, redisReachable, testRedis } from '../test-support/redis.js';
import type { WeftRedis } from '../weft-redis.js';
import { RedisSagaLog } from './redis-saga-log.js';

describeWith('redis', 'RedisSagaLog', await redisReachable(), () => {
  let redis: WeftRedis;
  beforeAll(async () => {
    redis = testRedis('saga');
    await redis.ready();
  });
  afterAll(async () => {
    await cleanUp(redis);
    await redis.close();
  });

  it('lists started executions until they finish, with their entries round-tripped', async () => {
    const log = new RedisSagaLog(redis);
    const at = Date.now();
    await log.append('trip', 'o-1', { type: 'started', at, input: { when: new Date(0), seats: new Set([1]) } });
    await log.append('trip', 'o-1', { type: 'step', at, index: 0, step: 'reserve', output: 7n });
    const [record] = await log.unfinished('trip');
    expect(record?.sagaId).toBe('o-1');
    expect(record?.entries[0]).toEqual({ type: 'started', at, input: { when: new Date(0), seats: new Set([1]) } });
    expect(record?.entries[1]).toMatchObject({ output: 7n });
    await log.append('trip', 'o-1', { type: 'finished', at, outcome: 'completed' });
    expect(await log.unfinished('trip')).toEqual([]);
  });

  it('refuses appends to unknown or finished executions and a second start', async () => {
    const log = new RedisSagaLog(redis, { retainFinishedMs: 60_000 });
    const at = Date.now();
    await expect(log.append('x', 'nope', { type: 'step', at, index: 0, step: 's', output: 1 })).rejects.toThrow(/WEFT_SAGA_UNKNOWN/);
    await log.append('x', 'a', { type: 'started', at, input: 1 });
    await expect(log.append('x', 'a', { type: 'started', at, input: 1 })).rejects.toThrow(/WEFT_SAGA_EXISTS/);
    await log.append('x', 'a', { type: 'finished', at, outcome: 'completed' });
    await expect(log.append('x', 'a', { type: 'step', at, index: 0, step: 's', output: 1 })).rejects.toThrow(/WEFT_SAGA_FINISHED/);
    expect((await log.get('x', 'a'))?.entries).toHaveLength(2);
  });

  it('grants a claim to one owner at a time, and never on a finished execution', async () => {
    const log = new RedisSagaLog(redis);
    const at = Date.now();
    await log.append('c', 'id', { type: 'started', at, input: null });
    const claims = await Promise.all(['p1', 'p2', 'p3'].map((owner) => log.claim('c', 'id', owner, 10_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await log.append('c', 'id', { type: 'finished', at, outcome: 'compensated' });
    expect(await log.claim('c', 'id', 'p9', 10_000)).toBe(false);
  });

  it('lets recoverSagas compensate an interrupted execution exactly once across concurrent recoverers', async () => {
    const log = new RedisSagaLog(redis);
    const at = Date.now();
    let released = 0;
    const steps = [
      { name: 'reserve', step: async (n: number) => n + 1, compensate: async () => void released++ },
      { name: 'pay', step: async (n: number) => n + 1 },
    ];
    const s1 = saga(steps as never, { name: 'book', log });
    const s2 = saga(steps as never, { name: 'book', log });
    await log.append('book', 'crashed', { type: 'started', at, input: 1 });
    await log.append('book', 'crashed', { type: 'step', at, index: 0, step: 'reserve', output: 2 });
    const [r1, r2] = await Promise.all([recoverSagas(s1), recoverSagas(s2)]);
    expect([...r1, ...r2]).toEqual([{ sagaId: 'crashed', outcome: 'compensated', errors: [] }]);
    expect(released).toBe(1);
    expect(await log.unfinished('book')).toEqual([]);
  });

  it('refuses to start a saga while Redis is unreachable, running no step', async () => {
    const dead = testRedis('dead', { url: 'redis://127.0.0.1:1', commandTimeoutMs: 50 });
    let ran = 0;
    const s = saga([{ name: 'one', step: async () => void ran++ }] as never, { name: 'offline', log: new RedisSagaLog(dead) });
    await expect(s.run(undefined as never)).rejects.toThrow();
    expect(ran).toBe(0);
    await dead.close();
  });
});
