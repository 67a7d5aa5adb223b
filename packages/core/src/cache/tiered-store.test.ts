import { afterEach, describe, expect, it, vi } from 'vitest';
import { step } from '../step/step.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { cache } from './cache.js';
import type { CacheStore } from './cache-store.js';
import { TieredStore } from './tiered-store.js';

/** An asynchronous shared store, like Redis through Keyv, that can be taken down. */
class SharedStore implements CacheStore {
  readonly map = new Map<string, unknown>();
  down = false;
  reads = 0;
  get(key: string): Promise<unknown> {
    this.reads++;
    return this.down ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(this.map.get(key));
  }
  set(key: string, value: unknown): Promise<boolean> {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    this.map.set(key, value);
    return Promise.resolve(true);
  }
  delete(key: string): Promise<boolean> {
    return this.down ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(this.map.delete(key));
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('TieredStore', () => {
  it('keeps answering cache hits while the shared store is down; misses still run the step', async () => {
    const shared = new SharedStore();
    let calls = 0;
    const answer = step('answer', (q: string) => `${q}!${++calls}`);
    const cached = cache(answer, { namespace: 'answers', ttlMs: 60_000, store: new TieredStore(shared) });
    const results: WeftEvent[] = [];
    const sub = events.subscribe((e) => {
      if (e.type === 'cache.request') results.push(e);
    });
    try {
      expect(await cached.run('hello')).toBe('hello!1');
      expect(shared.map.size).toBe(1);
      shared.down = true;
      expect(await cached.run('hello')).toBe('hello!1');
      expect(await cached.run('other')).toBe('other!2');
      expect(results.map((e) => (e.type === 'cache.request' ? e.result : ''))).toEqual(['miss', 'hit', 'store_error']);
    } finally {
      sub.unsubscribe();
    }
  });

  it('copies what another process wrote on the first read, then serves it locally', async () => {
    const shared = new SharedStore();
    const writer = cache(
      step('w', (q: string) => q.toUpperCase()),
      { namespace: 'n', ttlMs: 60_000, store: new TieredStore(shared) },
    );
    await writer.run('x');
    let ran = 0;
    const reader = cache(
      step('w', (q: string) => (ran++, q)),
      { namespace: 'n', ttlMs: 60_000, store: new TieredStore(shared) },
    );
    shared.reads = 0;
    expect(await reader.run('x')).toBe('X');
    expect(await reader.run('x')).toBe('X');
    expect(shared.reads).toBe(1);
    expect(ran).toBe(0);
  });

  it('drops a local copy after localTtlMs, so the shared store decides again', async () => {
    vi.useFakeTimers();
    const shared = new SharedStore();
    const store = new TieredStore(shared, { localTtlMs: 1_000 });
    await store.set('k', 'v', 60_000);
    shared.map.delete('k'); // another process deleted it
    expect(store.get('k')).toBe('v');
    vi.advanceTimersByTime(1_001);
    await expect(store.get('k')).resolves.toBeUndefined();
  });

  it('never keeps a local copy longer than the entry asked for', async () => {
    vi.useFakeTimers();
    const shared = new SharedStore();
    const store = new TieredStore(shared, { localTtlMs: 60_000 });
    await store.set('k', 'v', 500);
    shared.map.delete('k');
    vi.advanceTimersByTime(501);
    await expect(store.get('k')).resolves.toBeUndefined();
  });

  it('deletes from both tiers', async () => {
    const shared = new SharedStore();
    const store = new TieredStore(shared);
    await store.set('k', 'v');
    await store.delete('k');
    expect(shared.map.has('k')).toBe(false);
    await expect(store.get('k')).resolves.toBeUndefined();
  });

  it('rejects bad options with a TypeError naming the option', () => {
    const shared = new SharedStore();
    expect(() => new TieredStore({} as CacheStore)).toThrow(/`shared`/);
    expect(() => new TieredStore(shared, { max: 0 })).toThrow(/`max`/);
    expect(() => new TieredStore(shared, { localTtlMs: -1 })).toThrow(/`localTtlMs`/);
    expect(() => new TieredStore(shared, { ttl: 5 } as never)).toThrow(TypeError);
  });
});
