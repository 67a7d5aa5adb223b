import { afterAll, beforeAll, expect, it } from 'vitest';
import { isSagaConflictError, recoverSagas, saga, type SagaStep } from '@weft/core';
import { cleanUp, describeWith, redisReachable, testRedis } from '../test-support/redis.js';
import type { WeftRedis } from '../weft-redis.js';
import { RedisSagaLog } from './redis-saga-log.js';

const CARD = '4111111111111111';

/** Polls `check` until it returns true; fails after `ms`. Leases lapse on Redis's clock, so the test waits for that, not for a fixed time. */
async function until(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWith('redis', 'RedisSagaLog', await redisReachable(), () => {
  let redis: WeftRedis;
  let other: WeftRedis;
  beforeAll(async () => {
    redis = testRedis('saga');
    other = testRedis('saga', { prefix: redis.prefix });
    await Promise.all([redis.ready(), other.ready()]);
  });
  afterAll(async () => {
    await cleanUp(redis);
    await Promise.all([redis.close(), other.close()]);
  });
  const lease = (owner: string, leaseMs = 10_000) => ({ owner, leaseMs });

  it('lists started executions until they finish, with their entries round-tripped', async () => {
    const log = new RedisSagaLog(redis);
    const at = Date.now();
    expect(await log.begin('trip', 'o-1', { type: 'started', at, input: { when: new Date(0), seats: new Set([1]) } }, lease('p1'))).toBeUndefined();
    await log.append('trip', 'o-1', { type: 'step', at, index: 0, step: 'reserve', output: 7n }, lease('p1'));
    const [record] = await log.unfinished('trip');
    expect(record?.sagaId).toBe('o-1');
    expect(record?.entries[0]).toEqual({ type: 'started', at, input: { when: new Date(0), seats: new Set([1]) } });
    expect(record?.entries[1]).toMatchObject({ output: 7n });
    await log.append('trip', 'o-1', { type: 'finished', at, outcome: 'completed' }, lease('p1'));
    expect(await log.unfinished('trip')).toEqual([]);
    expect((await log.get('trip', 'o-1'))?.entries).toHaveLength(3);
  });

  it('returns the existing record on a second begin, and fences writes by the lease', async () => {
    const log = new RedisSagaLog(redis, { retainFinishedMs: 60_000 });
    const at = Date.now();
    await expect(log.append('x', 'nope', { type: 'step', at, index: 0, step: 's', output: 1 }, lease('p1'))).rejects.toThrow(/WEFT_SAGA_UNKNOWN/);
    await log.begin('x', 'a', { type: 'started', at, input: 1 }, lease('p1'));
    expect((await log.begin('x', 'a', { type: 'started', at, input: 2 }, lease('p2')))?.entries).toEqual([{ type: 'started', at, input: 1 }]);
    const stolen = await log.append('x', 'a', { type: 'step', at, index: 0, step: 's', output: 1 }, lease('p2')).catch((e: unknown) => e);
    expect(isSagaConflictError(stolen) && stolen.state).toBe('lease_lost');
    await log.append('x', 'a', { type: 'finished', at, outcome: 'completed' }, lease('p1'));
    const late = await log.append('x', 'a', { type: 'step', at, index: 0, step: 's', output: 1 }, lease('p1')).catch((e: unknown) => e);
    expect(isSagaConflictError(late)).toBe(true);
    expect((await log.get('x', 'a'))?.entries).toHaveLength(2);
  });

  it('grants a lapsed lease to one claimant at a time, never while its owner renews, never when finished', async () => {
    const log = new RedisSagaLog(redis);
    const otherLog = new RedisSagaLog(other);
    const at = Date.now();
    await log.begin('c', 'id', { type: 'started', at, input: null }, lease('p0', 300));
    expect(await otherLog.claim('c', 'id', lease('p1'))).toBe(false);
    await until(async () => (await redis.command<number>(['EXISTS', redis.key('saga', '{saga:c}', 'claim', 'id')])) === 0);
    const claims = await Promise.all(['p1', 'p2', 'p3'].map((owner) => (owner === 'p2' ? otherLog : log).claim('c', 'id', lease(owner))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = ['p1', 'p2', 'p3'][claims.indexOf(true)]!;
    await log.append('c', 'id', { type: 'finished', at, outcome: 'compensated' }, lease(winner));
    expect(await log.claim('c', 'id', lease('p9'))).toBe(false);
  });

  it('runs one execution per ID across two instances sharing Redis, and replays it after', async () => {
    let charges = 0;
    const steps: [SagaStep<{ id: string; card: string }, { id: string; charge: number }>] = [
      { name: 'charge', step: async (o) => (await new Promise((r) => setTimeout(r, 50)), { id: o.id, charge: ++charges }), compensate: () => {} },
    ];
    const persist = { input: ({ card, ...rest }: { id: string; card: string }) => ({ ...rest, last4: card.slice(-4) }) };
    const a = saga(steps, { name: 'pay', log: new RedisSagaLog(redis), id: (o) => o.id, persist });
    const b = saga(steps, { name: 'pay', log: new RedisSagaLog(other), id: (o) => o.id, persist });
    const results = await Promise.all([a, b, a, b, a].map((s) => s.run({ id: 'dup-1', card: CARD }).then((v) => v, (e: unknown) => e)));
    expect(charges).toBe(1);
    expect(results.filter((r) => isSagaConflictError(r) && r.state === 'running')).toHaveLength(4);
    expect(await b.run({ id: 'dup-1', card: CARD })).toEqual({ id: 'dup-1', charge: 1 });
    expect(charges).toBe(1);
  });

  it('resumes an execution whose instance died, forward, from the log', async () => {
    const dead = new RedisSagaLog(other);
    const at = Date.now();
    const l = lease('dead/1', 200);
    await dead.begin('resume', 'r1', { type: 'started', at, input: 1 }, l);
    await dead.append('resume', 'r1', { type: 'intent', at, index: 0, step: 'one', key: 'r1:0:one' }, l);
    await dead.append('resume', 'r1', { type: 'step', at, index: 0, step: 'one', output: 2 }, l);
    await dead.append('resume', 'r1', { type: 'intent', at, index: 1, step: 'two', key: 'r1:1:two' }, l);
    const keys: string[] = [];
    const s = saga(
      [
        { name: 'one', step: async (n: number) => n + 1 },
        { name: 'two', step: async (n: number, ctx) => (keys.push(ctx.idempotencyKey!), n * 10) },
      ],
      { name: 'resume', log: new RedisSagaLog(redis), id: () => 'r1' },
    );
    let result: unknown;
    await until(async () => {
      result = await s.run(1).catch((e: unknown) => e);
      return !isSagaConflictError(result);
    });
    expect(result).toBe(20);
    expect(keys).toEqual(['r1:1:two']);
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
    const s2 = saga(steps as never, { name: 'book', log: new RedisSagaLog(other) });
    const l = lease('dead/2', 100);
    await log.begin('book', 'crashed', { type: 'started', at, input: 1 }, l);
    await log.append('book', 'crashed', { type: 'step', at, index: 0, step: 'reserve', output: 2 }, l);
    let results: unknown[] = [];
    await until(async () => {
      const [r1, r2] = await Promise.all([recoverSagas(s1), recoverSagas(s2)]);
      results = [...results, ...r1, ...r2];
      return results.length > 0;
    });
    expect(results).toEqual([{ sagaId: 'crashed', outcome: 'compensated', errors: [] }]);
    expect(released).toBe(1);
    expect(await log.unfinished('book')).toEqual([]);
  });

  it('holds no card number in any key after runs that persist only the last four digits', async () => {
    const log = new RedisSagaLog(redis);
    const s = saga(
      [
        { name: 'charge', step: (o: { id: string; card: string }) => ({ id: o.id, last4: o.card.slice(-4) }), compensate: () => {} },
        { name: 'fail', step: (): number => { throw new Error('shipping down'); } },
      ],
      { name: 'cards', log, id: (o) => o.id, persist: { input: (o) => ({ id: o.id, last4: o.card.slice(-4) }) } },
    );
    await expect(s.run({ id: 'c-1', card: CARD })).rejects.toThrow('shipping down');
    const keys = await redis.command<string[]>(['KEYS', `${redis.key('saga')}*`]);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const type = await redis.command<string>(['TYPE', key]);
      const values = type === 'list' ? await redis.command<string[]>(['LRANGE', key, 0, -1]) : type === 'zset' ? await redis.command<string[]>(['ZRANGE', key, 0, -1]) : [await redis.command<string>(['GET', key])];
      for (const v of values) expect(String(v)).not.toContain(CARD);
    }
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
