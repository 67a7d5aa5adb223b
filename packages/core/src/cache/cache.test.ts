import { afterEach, describe, expect, it, vi } from 'vitest';
import { step } from '../step/step.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import type { RunContext } from '../context/run-context.js';
import { Cache, cache } from './cache.js';
import type { CacheStore } from './cache-store.js';
import { LruStore } from './lru-store.js';

/** Collects cache events while a test runs. */
function recordEvents(): { list: WeftEvent[]; of: (type: string) => WeftEvent[]; stop: () => void } {
  const list: WeftEvent[] = [];
  const sub = events.subscribe((e) => {
    if (e.type.startsWith('cache.')) list.push(e);
  });
  return { list, of: (type) => list.filter((e) => e.type === type), stop: () => sub.unsubscribe() };
}

/** A Keyv look-alike: async, stores what it is given after a JSON round trip, honours TTLs by Date.now(). */
class FakeKeyv implements CacheStore {
  readonly data = new Map<string, { value: string; expires: number | undefined }>();
  readonly setTtls: Array<number | undefined> = [];
  async get(key: string): Promise<unknown> {
    const row = this.data.get(key);
    if (!row) return undefined;
    if (row.expires !== undefined && Date.now() > row.expires) {
      this.data.delete(key);
      return undefined;
    }
    return JSON.parse(row.value) as unknown;
  }
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    this.setTtls.push(ttl);
    this.data.set(key, { value: JSON.stringify(value), expires: ttl === undefined ? undefined : Date.now() + ttl });
    return true;
  }
  async delete(key: string): Promise<boolean> {
    return this.data.delete(key);
  }
  async clear(): Promise<void> {
    this.data.clear();
  }
}

/** A step that counts its runs and answers after `ms` (0: at once). */
function counted<I, O>(fn: (input: I) => O, ms = 0) {
  const calls = { n: 0, signals: [] as AbortSignal[] };
  const s = step('lookup', async (input: I, ctx: RunContext) => {
    calls.n++;
    calls.signals.push(ctx.signal);
    if (ms > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(ctx.signal.reason);
        }, { once: true });
      });
    }
    return fn(input);
  });
  return { s, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('cache', () => {
  it('serves the second identical call from the cache without running the step', async () => {
    const rec = recordEvents();
    const { s, calls } = counted((id: string) => ({ id, name: `user-${id}` }));
    const cached = cache(s, { ttlMs: 60_000 });
    expect(await cached.run('1')).toEqual({ id: '1', name: 'user-1' });
    expect(await cached.run('1')).toEqual({ id: '1', name: 'user-1' });
    expect(await cached.run('2')).toEqual({ id: '2', name: 'user-2' });
    expect(calls.n).toBe(2);
    rec.stop();
    expect(rec.of('cache.request').map((e) => (e as { result: string }).result)).toEqual(['miss', 'hit', 'miss']);
    expect(rec.of('cache.set')).toHaveLength(2);
    expect(rec.list.every((e) => e.primitive === 'cache' && (e as { cache: string }).cache === 'lookup')).toBe(true);
    expect(cached.kind).toBe('cache');
    expect(cached.name).toBe('lookup');
  });

  it('runs the step once for 100 concurrent identical calls and gives all of them its result', async () => {
    const rec = recordEvents();
    const { s, calls } = counted((q: { city: string }) => `sunny in ${q.city}`, 10);
    const cached = cache(s);
    const results = await Promise.all(Array.from({ length: 100 }, () => cached.run({ city: 'Oslo' })));
    rec.stop();
    expect(calls.n).toBe(1);
    expect(new Set(results)).toEqual(new Set(['sunny in Oslo']));
    const requests = rec.of('cache.request') as Array<{ result: string; coalesced?: boolean }>;
    expect(requests.filter((e) => e.result === 'miss' && !e.coalesced)).toHaveLength(1);
    expect(requests.filter((e) => e.coalesced)).toHaveLength(99);
  });

  it('runs the step once for concurrent identical calls on an async (Keyv-like) store too', async () => {
    const { s, calls } = counted((n: number) => n * 2, 10);
    const cached = cache(s, { store: new FakeKeyv() });
    const results = await Promise.all(Array.from({ length: 100 }, () => cached.run(21)));
    expect(calls.n).toBe(1);
    expect(results.every((r) => r === 42)).toBe(true);
  });

  it('hits whatever the order of the input object keys', async () => {
    const { s, calls } = counted((q: { a: number; b: { c: string; d: number } }) => q.a);
    const cached = cache(s);
    await cached.run({ a: 1, b: { c: 'x', d: 2 } });
    await cached.run({ b: { d: 2, c: 'x' }, a: 1 });
    expect(calls.n).toBe(1);
    await cached.run({ a: 1, b: { c: 'y', d: 2 } });
    expect(calls.n).toBe(2);
  });

  it('honours ttlMs under fake timers', async () => {
    vi.useFakeTimers();
    const { s, calls } = counted((x: string) => x.toUpperCase());
    const cached = cache(s, { ttlMs: 1_000 });
    await cached.run('a');
    await vi.advanceTimersByTimeAsync(999);
    await cached.run('a');
    expect(calls.n).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    await cached.run('a');
    expect(calls.n).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('caches undefined and null results like any other value', async () => {
    const { s, calls } = counted((x: string): string | null | undefined => (x === 'u' ? undefined : null));
    const cached = cache(s);
    expect(await cached.run('u')).toBeUndefined();
    expect(await cached.run('u')).toBeUndefined();
    expect(await cached.run('n')).toBeNull();
    expect(await cached.run('n')).toBeNull();
    expect(calls.n).toBe(2);
  });

  it('does not cache errors by default', async () => {
    let n = 0;
    const flaky = step('flaky', () => {
      n++;
      throw new Error(`boom ${n}`);
    });
    const cached = cache(flaky);
    await expect(cached.run(undefined)).rejects.toThrow('boom 1');
    await expect(cached.run(undefined)).rejects.toThrow('boom 2');
  });

  it('caches errors for errorTtlMs when asked, separately from values', async () => {
    vi.useFakeTimers();
    let n = 0;
    const flaky = step('flaky', () => {
      n++;
      throw Object.assign(new Error(`boom ${n}`), { code: 'E_BOOM' });
    });
    const cached = cache(flaky, { ttlMs: 60_000, errorTtlMs: 100 });
    await expect(cached.run(undefined)).rejects.toThrow('boom 1');
    await expect(cached.run(undefined)).rejects.toThrow('boom 1');
    await vi.advanceTimersByTimeAsync(101);
    await expect(cached.run(undefined)).rejects.toThrow('boom 2');
    expect(n).toBe(2);
  });

  it('caches only the errors the cacheErrors predicate accepts', async () => {
    let n = 0;
    const flaky = step('flaky', (kind: string) => {
      n++;
      throw new Error(kind);
    });
    const cached = cache(flaky, { cacheErrors: (e) => e.message === 'not-found' });
    await expect(cached.run('not-found')).rejects.toThrow('not-found');
    await expect(cached.run('not-found')).rejects.toThrow('not-found');
    await expect(cached.run('overloaded')).rejects.toThrow('overloaded');
    await expect(cached.run('overloaded')).rejects.toThrow('overloaded');
    expect(n).toBe(3);
  });

  it('hashes every key, custom ones included, under weft:<namespace>:v<version>:', async () => {
    const keys: string[] = [];
    const store = new FakeKeyv();
    const spy: CacheStore = {
      get: (k) => (keys.push(k), store.get(k)),
      set: (k, v, ttl) => store.set(k, v, ttl),
      delete: (k) => store.delete(k),
    };
    const { s } = counted((q: { email: string }) => q.email.length);
    await cache(s, { store: spy, namespace: 'users', version: 3 }).run({ email: 'ada@example.com' });
    const tenant = step('tenant', (_: string, ctx: RunContext) => String(ctx.attributes['tenant']));
    await cache(tenant, { store: spy, key: (q, ctx) => `${String(ctx.attributes['tenant'])}:${q}` }).run('secret-id', { attributes: { tenant: 'acme' } });
    expect(keys[0]).toMatch(/^weft:users:v3:[0-9a-f]{64}$/);
    expect(keys[1]).toMatch(/^weft:tenant:v1:[0-9a-f]{64}$/);
    expect(keys.join()).not.toMatch(/ada|secret|acme/);
  });

  it('derives the key from the run context with a custom key function', async () => {
    const { s, calls } = counted((q: string) => q);
    const cached = cache(s, { key: (q, ctx) => `${String(ctx.attributes['tenant'])}:${q}` });
    await cached.run('x', { attributes: { tenant: 'a' } });
    await cached.run('x', { attributes: { tenant: 'a' } });
    await cached.run('x', { attributes: { tenant: 'b' } });
    expect(calls.n).toBe(2);
  });

  it('isolates namespaces and versions sharing a store', async () => {
    const store = new LruStore();
    const a = counted((x: string) => `a:${x}`);
    const b = counted((x: string) => `b:${x}`);
    expect(await cache(a.s, { store, namespace: 'a' }).run('k')).toBe('a:k');
    expect(await cache(b.s, { store, namespace: 'b' }).run('k')).toBe('b:k');
    expect(await cache(a.s, { store, namespace: 'a' }).run('k')).toBe('a:k');
    expect(a.calls.n).toBe(1);
    // A new version ignores the old entries.
    await cache(a.s, { store, namespace: 'a', version: 2 }).run('k');
    expect(a.calls.n).toBe(2);
  });

  it('degrades to the step when the store throws, and reports store_error and the failed write', async () => {
    const rec = recordEvents();
    const broken: CacheStore = {
      get: () => {
        throw new Error('redis down');
      },
      set: () => Promise.reject(new Error('redis down')),
      delete: () => undefined,
    };
    const { s, calls } = counted((x: number) => x + 1);
    const cached = cache(s, { store: broken });
    expect(await cached.run(1)).toBe(2);
    expect(await cached.run(1)).toBe(2);
    await new Promise((r) => setTimeout(r, 0));
    rec.stop();
    expect(calls.n).toBe(2);
    const requests = rec.of('cache.request') as Array<{ result: string; error?: Error }>;
    expect(requests.map((e) => e.result)).toEqual(['store_error', 'store_error']);
    expect(requests[0]?.error?.message).toBe('redis down');
    const sets = rec.of('cache.set') as Array<{ ok: boolean; reason?: string }>;
    expect(sets.map((e) => [e.ok, e.reason])).toEqual([[false, 'store_error'], [false, 'store_error']]);
  });

  it('degrades to the step when the store rejects or returns a malformed entry', async () => {
    const rec = recordEvents();
    const odd: CacheStore = { get: (k) => (k.length % 2 ? Promise.reject(new Error('nope')) : Promise.resolve('{"not":"an entry"}')), set: () => true, delete: () => true };
    const { s, calls } = counted((x: string) => x);
    const cached = cache(s, { store: odd });
    await cached.run('a');
    await cached.run('b');
    rec.stop();
    expect(calls.n).toBe(2);
    expect(rec.of('cache.request').map((e) => (e as { result: string }).result)).toEqual(['store_error', 'store_error']);
  });

  it('treats a store slower than storeTimeoutMs as a miss and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const rec = recordEvents();
    const hanging: CacheStore = { get: () => new Promise(() => {}), set: () => new Promise(() => {}), delete: () => undefined };
    const { s, calls } = counted((x: string) => `v:${x}`);
    const cached = cache(s, { store: hanging, storeTimeoutMs: 50 });
    const p = cached.run('a');
    await vi.advanceTimersByTimeAsync(49);
    expect(calls.n).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toBe('v:a');
    expect(calls.n).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    rec.stop();
    const req = rec.of('cache.request')[0] as { result: string; error?: unknown };
    expect(req.result).toBe('store_error');
    expect(isTimeoutError(req.error)).toBe(true);
  });

  it('bounds the store wait by the run deadline and clears its timer when the run times out', async () => {
    vi.useFakeTimers();
    const hanging: CacheStore = { get: () => new Promise(() => {}), set: () => true, delete: () => undefined };
    const { s, calls } = counted((x: string) => x);
    const p = cache(s, { store: hanging, storeTimeoutMs: 10_000 }).run('a', { timeout: 30 });
    const settled = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30);
    expect(isTimeoutError(await settled)).toBe(true);
    expect(calls.n).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves a slow store read at once when the caller aborts, clearing the read timer', async () => {
    vi.useFakeTimers();
    const hanging: CacheStore = { get: () => new Promise(() => {}), set: () => true, delete: () => undefined };
    const { s, calls } = counted((x: string) => x);
    const ac = new AbortController();
    const p = cache(s, { store: hanging, storeTimeoutMs: 1_000 }).run('a', { signal: ac.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    ac.abort('bye');
    const error = await p;
    expect(isAbortedError(error)).toBe(true);
    expect((error as Error).cause).toBe('bye');
    expect(vi.getTimerCount()).toBe(0);
    expect(calls.n).toBe(0);
  });

  it('lets one caller abort without cancelling the shared call for the others', async () => {
    vi.useFakeTimers();
    const { s, calls } = counted((x: string) => `done:${x}`, 100);
    const cached = cache(s);
    const leaving = new AbortController();
    const a = cached.run('k', { signal: leaving.signal }).catch((e: unknown) => e);
    const b = cached.run('k');
    await vi.advanceTimersByTimeAsync(10);
    leaving.abort('user left');
    const error = await a;
    expect(isAbortedError(error)).toBe(true);
    expect((error as Error).cause).toBe('user left');
    expect(calls.signals[0]?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(90);
    expect(await b).toBe('done:k');
    expect(calls.n).toBe(1);
    // The result was cached for later callers too.
    expect(await cached.run('k')).toBe('done:k');
    expect(calls.n).toBe(1);
  });

  it('cancels the shared call when every waiting caller has aborted, and starts afresh after', async () => {
    vi.useFakeTimers();
    const { s, calls } = counted((x: string) => `done:${x}`, 100);
    const cached = cache(s);
    const one = new AbortController();
    const two = new AbortController();
    const a = cached.run('k', { signal: one.signal }).catch((e: unknown) => e);
    const b = cached.run('k', { signal: two.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    one.abort('first');
    expect(calls.signals[0]?.aborted).toBe(false);
    two.abort('second');
    expect(calls.signals[0]?.aborted).toBe(true);
    expect(((await a) as Error).cause).toBe('first');
    expect(((await b) as Error).cause).toBe('second');
    const c = cached.run('k');
    await vi.advanceTimersByTimeAsync(100);
    expect(await c).toBe('done:k');
    expect(calls.n).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once without running the step when the caller is already aborted', async () => {
    const { s, calls } = counted((x: string) => x);
    const error = await cache(s).run('a', { signal: AbortSignal.abort('gone') }).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(calls.n).toBe(0);
  });

  it('serves a stale value and refreshes it once in the background', async () => {
    vi.useFakeTimers();
    const rec = recordEvents();
    let version = 0;
    const { s, calls } = counted(() => `v${++version}`, 20);
    const cached = cache(s, { ttlMs: 1_000, staleWhileRevalidateMs: 5_000 });
    const first = cached.run('k');
    await vi.advanceTimersByTimeAsync(20);
    expect(await first).toBe('v1');
    await vi.advanceTimersByTimeAsync(1_500);
    const stale = await Promise.all([cached.run('k'), cached.run('k'), cached.run('k')]);
    expect(stale).toEqual(['v1', 'v1', 'v1']);
    expect(calls.n).toBe(2);
    await vi.advanceTimersByTimeAsync(20);
    expect(await cached.run('k')).toBe('v2');
    expect(calls.n).toBe(2);
    rec.stop();
    const results = rec.of('cache.request').map((e) => (e as { result: string }).result);
    expect(results).toEqual(['miss', 'stale', 'stale', 'stale', 'hit']);
    expect(rec.of('cache.refresh')).toMatchObject([{ ok: true, cache: 'lookup' }]);
  });

  it('keeps the stale value when a background refresh fails, reporting it as an event, never as a rejection', async () => {
    vi.useFakeTimers();
    const rec = recordEvents();
    let n = 0;
    const flaky = step('flaky', async () => {
      n++;
      if (n > 1) throw new Error('upstream down');
      return 'good';
    });
    const cached = cache(flaky, { ttlMs: 100, staleWhileRevalidateMs: 10_000, cacheErrors: true });
    expect(await cached.run(undefined)).toBe('good');
    await vi.advanceTimersByTimeAsync(200);
    expect(await cached.run(undefined)).toBe('good');
    await vi.advanceTimersByTimeAsync(0);
    expect(await cached.run(undefined)).toBe('good');
    await vi.advanceTimersByTimeAsync(0);
    rec.stop();
    const refreshes = rec.of('cache.refresh') as Array<{ ok: boolean; error?: Error }>;
    expect(refreshes.length).toBe(2);
    expect(refreshes[0]?.ok).toBe(false);
    expect(refreshes[0]?.error?.message).toBe('upstream down');
  });

  it('misses once a value is past its stale window', async () => {
    vi.useFakeTimers();
    const { s, calls } = counted((x: string) => x);
    const cached = cache(s, { ttlMs: 100, staleWhileRevalidateMs: 100 });
    await cached.run('a');
    await vi.advanceTimersByTimeAsync(250);
    await cached.run('a');
    expect(calls.n).toBe(2);
  });

  it('round-trips Date, bigint, Map and undefined through a remote store', async () => {
    const store = new FakeKeyv();
    const { s, calls } = counted((id: string) => ({ id, at: new Date('2024-01-02T03:04:05.000Z'), big: 2n ** 70n, tags: new Map([['a', 1]]), missing: undefined as undefined | string }));
    const cached = cache(s, { store });
    await cached.run('1');
    const hit = await cached.run('1');
    expect(calls.n).toBe(1);
    expect(hit.at).toBeInstanceOf(Date);
    expect(hit.at.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(hit.big).toBe(2n ** 70n);
    expect(hit.tags.get('a')).toBe(1);
    const u = counted((): undefined => undefined);
    const cu = cache(u.s, { store, namespace: 'u' });
    expect(await cu.run('x')).toBeUndefined();
    expect(await cu.run('x')).toBeUndefined();
    expect(u.calls.n).toBe(1);
  });

  it('passes ttlMs plus the stale window to the store, and no TTL for Infinity', async () => {
    const store = new FakeKeyv();
    await cache(counted((x: string) => x).s, { store, ttlMs: 1_000, staleWhileRevalidateMs: 500 }).run('a');
    await cache(counted((x: string) => x).s, { store, namespace: 'forever', ttlMs: Infinity }).run('a');
    await new Promise((r) => setTimeout(r, 0));
    expect(store.setTtls).toEqual([1_500, undefined]);
  });

  it('brings a cached error back from a remote store as an Error with its name, message and code', async () => {
    const store = new FakeKeyv();
    let n = 0;
    const failing = step('failing', () => {
      n++;
      const e = Object.assign(new Error('not found'), { code: 'E_404' });
      e.name = 'NotFoundError';
      throw e;
    });
    const cached = cache(failing, { store, cacheErrors: true });
    await expect(cached.run(undefined)).rejects.toThrow('not found');
    await new Promise((r) => setTimeout(r, 0));
    const error = (await cached.run(undefined).catch((e: unknown) => e)) as Error & { code?: string };
    expect(n).toBe(1);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('NotFoundError');
    expect(error.code).toBe('E_404');
  });

  it('skips values over maxValueBytes with a cache.set event, but still returns them', async () => {
    const rec = recordEvents();
    const store = new FakeKeyv();
    const { s, calls } = counted((n: number) => 'x'.repeat(n));
    const cached = cache(s, { store, maxValueBytes: 100 });
    expect(await cached.run(500)).toHaveLength(500);
    expect(await cached.run(500)).toHaveLength(500);
    expect(await cached.run(10)).toHaveLength(10);
    expect(await cached.run(10)).toHaveLength(10);
    await new Promise((r) => setTimeout(r, 0));
    rec.stop();
    expect(calls.n).toBe(3);
    const sets = rec.of('cache.set') as Array<{ ok: boolean; reason?: string; bytes?: number }>;
    expect(sets.filter((e) => !e.ok).every((e) => e.reason === 'too_large' && (e.bytes ?? 0) > 100)).toBe(true);
    expect(sets.filter((e) => e.ok)).toHaveLength(1);
  });

  it('applies maxValueBytes to the in-memory store when set explicitly', async () => {
    const { s, calls } = counted((n: number) => 'x'.repeat(n));
    const cached = cache(s, { maxValueBytes: 100 });
    await cached.run(500);
    await cached.run(500);
    expect(calls.n).toBe(2);
  });

  it('reports a value the serializer cannot encode and still returns it', async () => {
    const rec = recordEvents();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const { s } = counted(() => cyclic);
    expect(await cache(s, { store: new FakeKeyv() }).run('a')).toBe(cyclic);
    rec.stop();
    expect(rec.of('cache.set')).toMatchObject([{ ok: false, reason: 'unserializable' }]);
  });

  it('shares in-memory values by reference unless clone is set', async () => {
    const shared = counted(() => ({ n: 1 }));
    const byRef = cache(shared.s);
    (await byRef.run('a')).n = 99;
    expect((await byRef.run('a')).n).toBe(99);
    const copied = counted(() => ({ n: 1 }));
    const cloned = cache(copied.s, { clone: true });
    (await cloned.run('a')).n = 99;
    expect((await cloned.run('a')).n).toBe(1);
    expect(copied.calls.n).toBe(1);
  });

  it('treats a Keyv-style false from set as a failed write', async () => {
    const rec = recordEvents();
    const refusing: CacheStore = { get: () => Promise.resolve(undefined), set: () => Promise.resolve(false), delete: () => true };
    await cache(counted((x: string) => x).s, { store: refusing }).run('a');
    await new Promise((r) => setTimeout(r, 0));
    rec.stop();
    expect(rec.of('cache.set')).toMatchObject([{ ok: false, reason: 'store_error' }]);
  });

  it('works with a synchronous store other than LruStore, serialising values', async () => {
    const map = new Map<string, unknown>();
    const store: CacheStore = { get: (k) => map.get(k), set: (k, v) => void map.set(k, v), delete: (k) => map.delete(k) };
    const { s, calls } = counted((x: string) => ({ at: new Date(0), x }));
    const cached = cache(s, { store });
    await cached.run('a');
    const hit = await cached.run('a');
    expect(calls.n).toBe(1);
    expect(hit.at).toBeInstanceOf(Date);
    expect(typeof [...map.values()][0]).toBe('string');
  });

  it('rejects with a TypeError for an input it cannot hash, or a key function that returns no string', async () => {
    const { s, calls } = counted((x: unknown) => x);
    const error = await cache(s).run(() => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/`key`/);
    const bad = await cache(s, { key: () => 42 as unknown as string }).run('a').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TypeError);
    expect((bad as Error).message).toMatch(/`key`/);
    expect(calls.n).toBe(0);
  });

  it('invalidates one input through a shared Cache handle, and clears it', async () => {
    const users = new Cache<string, string>({ namespace: 'users', ttlMs: 60_000 });
    let n = 0;
    const { s } = counted((id: string) => `user-${id}-${++n}`);
    const cached = cache(s, users);
    expect(await cached.run('1')).toBe('user-1-1');
    expect(await cached.run('2')).toBe('user-2-2');
    await users.invalidate('1');
    expect(await cached.run('1')).toBe('user-1-3');
    expect(await cached.run('2')).toBe('user-2-2');
    await users.clear();
    expect(await cached.run('2')).toBe('user-2-4');
    expect(users.keyFor('1')).toMatch(/^weft:users:v1:[0-9a-f]{64}$/);
  });

  it('does not store the result of a call in flight when its input is invalidated', async () => {
    vi.useFakeTimers();
    const users = new Cache<string, number>({ namespace: 'users' });
    let n = 0;
    const slow = step('slow', async () => {
      await new Promise((r) => setTimeout(r, 50));
      return ++n;
    });
    const cached = cache(slow, users);
    const p = cached.run('1');
    await vi.advanceTimersByTimeAsync(10);
    await users.invalidate('1');
    await vi.advanceTimersByTimeAsync(40);
    expect(await p).toBe(1);
    const q = cached.run('1');
    await vi.advanceTimersByTimeAsync(50);
    expect(await q).toBe(2);
  });

  it('never leaves a timer behind on an async store hit', async () => {
    vi.useFakeTimers();
    const store = new FakeKeyv();
    const { s } = counted((x: string) => x);
    const cached = cache(s, { store });
    await cached.run('a');
    await cached.run('a');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('throws a TypeError naming the option for bad options', () => {
    const { s } = counted((x: string) => x);
    expect(() => cache(s, { ttlMs: -1 })).toThrow(/`ttlMs`/);
    expect(() => cache(s, { errorTtlMs: 'x' as never })).toThrow(/`errorTtlMs`/);
    expect(() => cache(s, { staleWhileRevalidateMs: -5 })).toThrow(/`staleWhileRevalidateMs`/);
    expect(() => cache(s, { storeTimeoutMs: Infinity })).toThrow(/`storeTimeoutMs`/);
    expect(() => cache(s, { maxValueBytes: 0 })).toThrow(/`maxValueBytes`/);
    expect(() => cache(s, { store: {} as never })).toThrow(/`store`/);
    expect(() => cache(s, { store: new FakeKeyv(), max: 10 })).toThrow(/`max`/);
    expect(() => cache(s, { store: new FakeKeyv(), clone: true })).toThrow(/`clone`/);
    expect(() => cache(s, { serializer: { serialize: String, deserialize: String } })).toThrow(/`serializer`/);
    expect(() => cache(s, { store: new FakeKeyv(), serializer: {} as never })).toThrow(/`serializer`/);
    expect(() => cache(s, { sizeCalculation: () => 1 })).toThrow(/`maxSize`/);
    expect(() => cache(s, { max: 0 })).toThrow(/`max`/);
    expect(() => cache(s, { version: 'v 2' })).toThrow(/`version`/);
    expect(() => cache(s, { version: -1 })).toThrow(/`version`/);
    expect(() => cache(s, { namespace: 'has space' })).toThrow(/`namespace`/);
    expect(() => cache(s, { key: 'id' as never })).toThrow(/`key`/);
    expect(() => cache(s, { cacheErrors: 'yes' as never })).toThrow(/`cacheErrors`/);
    expect(() => cache(s, { ttl: 5 } as never)).toThrow(/`ttl`/);
    expect(() => cache(s, 5 as never)).toThrow(/`options`/);
    expect(() => cache({} as never)).toThrow(/`primitive`/);
    expect(() => new Cache({})).toThrow(/`namespace`/);
    expect(() => cache(s, { ttlMs: Infinity, version: 'release-2024.05' })).not.toThrow();
  });
});
