// Cache, router and saga cases. A cache hit is compared with a raw lru-cache `get` plus `await`
// (the goal is at most 2x); the miss, route decision and saga are reported against the bare call.
import { AsyncLocalStorage } from 'node:async_hooks';
import { LRUCache } from 'lru-cache';
import { step, cache, route, saga } from '@weft/core';
import { work } from './00-core.mjs';

const RAW = 'raw lru-cache get + await';
export const RAW_ALS = 'raw lru-cache get + await, AsyncLocalStorage on';

function rawLru() {
  const lru = new LRUCache({ max: 1000 });
  for (let i = 0; i < 100; i++) lru.set(`k${i}`, i);
  return async (i) => lru.get(`k${i % 100}`);
}

export const cases = [
  { name: RAW, setup: rawLru },
  {
    // The same, in a process where an AsyncLocalStorage is in use, as in every process that runs
    // Weft: Node 20 then runs its promise hooks on every promise, this case's await included.
    name: RAW_ALS,
    setup: () => {
      new AsyncLocalStorage().enterWith({});
      return rawLru();
    },
  },
  {
    name: 'weft cache hit (string key), primitive only',
    peer: RAW,
    setup: async () => {
      const cached = cache(step('lookup', work), { max: 1000 });
      const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
      // Borrow a run context once, then call the primitive's exec in it: this measures the cache
      // itself, without the per-run envelope (context, root span, events) that every run() pays.
      const ctx = await step('borrow', (_, c) => c).run(undefined);
      for (const k of keys) await cached.exec(k, ctx);
      return (i) => cached.exec(keys[i % 100], ctx);
    },
  },
  {
    name: 'weft cache hit (string key), full run()',
    peer: RAW,
    setup: async () => {
      const cached = cache(step('lookup', work), { max: 1000 });
      const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
      for (const k of keys) await cached.run(k);
      return (i) => cached.run(keys[i % 100]);
    },
  },
  {
    name: 'weft cache miss',
    setup: () => {
      // ttl 1 ms and a tiny store: every call misses and runs the step.
      const cached = cache(step('lookup', work), { max: 1, ttlMs: 1 });
      return (i) => cached.run(i);
    },
  },
  {
    name: 'weft route decision (selector)',
    setup: () => {
      const r = route((n) => (n % 2 === 0 ? 'even' : 'odd'), { even: step('even', work), odd: step('odd', work) });
      return (i) => r.run(i);
    },
  },
  {
    name: 'weft saga of two steps (succeeds)',
    setup: () => {
      const s = saga([
        { step: step('reserve', work), compensate: () => undefined },
        { step: step('charge', work), compensate: () => undefined },
      ]);
      return (i) => s.run(i);
    },
  },
];
