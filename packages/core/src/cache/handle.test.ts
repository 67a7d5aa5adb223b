import { describe, expect, it } from 'vitest';
import { step } from '../index.js';
import { manualClock } from '../test-support/manual-clock.js';
import { Cache } from './cache.js';
import { LruStore } from './lru-store.js';
import type { CacheStore } from './cache-store.js';

/** A remote-like store: strings only, answering with promises. */
function asyncStore(): CacheStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: (key) => Promise.resolve(data.get(key)),
    set: (key, value) => (data.set(key, value as string), Promise.resolve(true)),
    delete: (key) => Promise.resolve(data.delete(key)),
    clear: () => (data.clear(), Promise.resolve()),
  };
}

describe.each([
  ['in memory (LruStore)', () => undefined],
  ['a serialising async store', () => asyncStore()],
])('the cache handle, %s', (_label, makeStore) => {
  it('gets, peeks, sets, deletes and reports the remaining TTL, on the cache clock', async () => {
    const clock = manualClock();
    const store = makeStore();
    const users = new Cache<string, { name: string }>({ namespace: 'users', ttlMs: 1_000, clock, ...(store ? { store } : {}) });
    let calls = 0;
    const fetchUser = step('fetch-user', (id: string) => ({ name: `user ${id} #${++calls}` })).cache(users);

    expect(await users.get('1')).toBeUndefined();
    expect(await users.has('1')).toBe(false);
    await fetchUser.run('1');
    await new Promise((r) => setImmediate(r)); // writes are in the background
    expect(await users.get('1')).toEqual({ name: 'user 1 #1' });
    expect(await users.peek('1')).toEqual({ name: 'user 1 #1' });
    expect(await users.has('1')).toBe(true);
    expect(await users.ttl('1')).toBe(1_000);
    await clock.advance(400);
    expect(await users.ttl('1')).toBe(600);

    await users.set('2', { name: 'warmed' }, { ttlMs: 50 });
    expect(await fetchUser.run('2')).toEqual({ name: 'warmed' }); // a hit: the step did not run
    expect(calls).toBe(1);
    await clock.advance(50);
    expect(await users.has('2')).toBe(false);

    expect(await users.delete('1')).toBe(true);
    expect(await users.get('1')).toBeUndefined();
    expect(await users.delete('1')).toBe(false);

    expect(users.stats()).toMatchObject({ hits: 1, misses: 1, stale: 0, storeErrors: 0 });
    expect(users.stats().hitRatio).toBe(0.5);
    await users.clear();
    expect(await users.has('2')).toBe(false);
  });
});

describe('the cache handle with a failing store', () => {
  it('rejects get when the store fails, and counts a run lookup that failed as a store error', async () => {
    const broken: CacheStore = { get: () => Promise.reject(new Error('store down')), set: () => Promise.resolve(true), delete: () => Promise.resolve(false) };
    const c = new Cache<string, string>({ namespace: 'broken', store: broken });
    await expect(c.get('x')).rejects.toThrow('store down');
    await expect(step('s', (x: string) => x).cache(c).run('y')).resolves.toBe('y');
    expect(c.stats()).toMatchObject({ storeErrors: 1, hits: 0 });
  });

  it('peeks without touching the LRU order', async () => {
    const store = new LruStore({ max: 2 });
    const c = new Cache<string, number>({ namespace: 'lru', store });
    await c.set('a', 1);
    await c.set('b', 2);
    await c.peek('a'); // does not make `a` recent
    await c.set('c', 3); // evicts the least recent: `a`
    expect(await c.has('a')).toBe(false);
    expect(await c.has('b')).toBe(true);
  });
});
