import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { AbortedError, step } from '@weft/core';
import { cleanUp, describeWith, redisReachable, testRedis } from '../test-support/redis.js';
import type { WeftRedis } from '../weft-redis.js';
import { deadLetter } from './dead-letter.js';
import { RedisDeadLetterStore } from './redis-dead-letter-store.js';
import type { DeadLetterEntry } from './dead-letter-store.js';

describeWith('redis', 'deadLetter with RedisDeadLetterStore', await redisReachable(), () => {
  let redis: WeftRedis;
  beforeAll(async () => {
    redis = testRedis('dlq');
    await redis.ready();
  });
  afterAll(async () => {
    await cleanUp(redis);
    await redis.close();
  });

  it('records a failed run with its input, error and correlation ID, and rethrows the error', async () => {
    const store = new RedisDeadLetterStore(redis);
    const charge = deadLetter(
      step('charge', async (order: { id: string; cents: number }) => {
        throw Object.assign(new Error(`card declined for ${order.id}`), { code: 'DECLINED' });
      }),
      store,
      { name: 'charge', ttlMs: 60_000 },
    );
    await expect(charge.run({ id: 'o-1', cents: 500 }, { correlationId: 'req-abc' })).rejects.toThrow('card declined for o-1');
    const [entry] = await store.list('charge');
    expect(entry).toMatchObject({
      queue: 'charge',
      input: { id: 'o-1', cents: 500 },
      error: { name: 'Error', message: 'card declined for o-1', code: 'DECLINED' },
      correlationId: 'req-abc',
      workflow: 'charge',
      replays: 0,
    });
    expect(entry!.expiresAt - entry!.failedAt).toBeGreaterThanOrEqual(59_000);
    const ttl = await redis.command<number>(['PTTL', redis.key('dlq', '{dlq:charge}', 'entry', entry!.id)]);
    expect(ttl).toBeGreaterThan(0);
  });

  it('replays an entry successfully once the fault is fixed, and removes it', async () => {
    const store = new RedisDeadLetterStore(redis);
    let broken = true;
    const ship = step('ship', async (parcel: string) => {
      if (broken) throw new Error('carrier API down');
      return `shipped ${parcel}`;
    });
    const guarded = deadLetter(ship, store, { name: 'ship', ttlMs: 60_000 });
    await expect(guarded.run('p-9')).rejects.toThrow('carrier API down');
    const entry = (await store.list('ship'))[0] as DeadLetterEntry<string> | undefined;
    await expect(store.replay(entry!, ship)).rejects.toThrow('carrier API down');
    expect((await store.get('ship', entry!.id))?.replays).toBe(1);
    broken = false;
    await expect(store.replay(entry!, ship)).resolves.toBe('shipped p-9');
    expect(await store.list('ship')).toEqual([]);
    await expect(store.replay(entry!, ship)).rejects.toMatchObject({ code: 'DEAD_LETTER_GONE' });
  });

  it('runs a replay once when two callers replay the same entry', async () => {
    const store = new RedisDeadLetterStore(redis);
    let runs = 0;
    const slow = step('slow', async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 100));
      return 'ok';
    });
    const entry = await store.add({ queue: 'twice', input: 1, error: { name: 'Error', message: 'x' }, correlationId: 'c', workflow: 'w', failedAt: Date.now() }, 60_000);
    const outcomes = await Promise.allSettled([store.replay(entry, slow), store.replay(entry, slow)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(runs).toBe(1);
  });

  it('does not capture aborts, nor failures the `when` predicate rejects', async () => {
    const store = new RedisDeadLetterStore(redis);
    const aborted = deadLetter(step('a', async () => { throw new AbortedError(); }), store, { name: 'skipped', ttlMs: 60_000 });
    const filtered = deadLetter(step('b', async () => { throw new TypeError('bad input'); }), store, { name: 'skipped', ttlMs: 60_000, when: (e) => !(e instanceof TypeError) });
    await expect(aborted.run(undefined)).rejects.toThrow();
    await expect(filtered.run(undefined)).rejects.toThrow('bad input');
    expect(await store.list('skipped')).toEqual([]);
  });

  it('reports a capture it could not store instead of losing it silently', async () => {
    const dead = testRedis('dead', { url: 'redis://127.0.0.1:1', commandTimeoutMs: 50 });
    const lost = vi.fn();
    const failing = deadLetter(step('f', async () => { throw new Error('boom'); }), new RedisDeadLetterStore(dead), { name: 'lost', ttlMs: 1_000, onCaptureError: lost });
    await expect(failing.run('in', { correlationId: 'req-lost' })).rejects.toThrow('boom');
    expect(lost).toHaveBeenCalledOnce();
    expect(lost.mock.calls[0]![1]).toMatchObject({ queue: 'lost', input: 'in', correlationId: 'req-lost' });
    await dead.close();
  });

  it('validates its options when built', () => {
    const store = new RedisDeadLetterStore(redis);
    expect(() => deadLetter(step('x', async () => 1), store, { name: 'bad name', ttlMs: 1 })).toThrow(/`name`/);
    expect(() => deadLetter(step('x', async () => 1), store, { name: 'ok', ttlMs: 0 })).toThrow(/`ttlMs`/);
  });
});
