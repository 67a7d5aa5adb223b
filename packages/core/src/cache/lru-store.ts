import { createRequire } from 'node:module';
import { currentClock } from '../clock/clock.js';
import type * as LruCacheModule from 'lru-cache';
import type { LRUCache } from 'lru-cache';
import { fail, optionalFunction, optionalNumber, optionsObject } from '../internal/validate-options.js';
import type { CacheStore } from './cache-store.js';
import { jsonSerializer } from './serializer.js';

type LruModule = typeof LruCacheModule;
let lruModule: LruModule | undefined;
/** lru-cache, loaded when the first LruStore is built rather than when `@weft/core` is imported. */
function lru(): LruModule {
  return (lruModule ??= createRequire(import.meta.url)('lru-cache') as LruModule);
}

/** @internal What the cache keeps in an LruStore: the value by reference, with its expiry. */
export interface Entry {
  /** The value, or the Error when `e`. */
  readonly v: unknown;
  /** True when `v` is a cached error. */
  readonly e: boolean;
  /** Epoch ms when it was stored. */
  readonly t: number;
  /** Epoch ms until which it is fresh; Infinity for never. */
  readonly x: number;
}

/** Options for {@link LruStore}. */
export interface LruStoreOptions {
  /**
   * Maximum number of entries; the least recently used is evicted beyond it.
   * @default 1000
   */
  readonly max?: number;
  /**
   * Maximum total size of the entries, in the unit `sizeCalculation` returns. Unbounded when unset.
   * @default undefined
   */
  readonly maxSize?: number;
  /**
   * The size of a cached value, for `maxSize`. Cached errors count 1.
   * @default the length of the value's JSON encoding (1 when it cannot be encoded)
   */
  readonly sizeCalculation?: (value: unknown, key: string) => number;
}

const DEFAULTS = { max: 1000 } as const satisfies Pick<Required<LruStoreOptions>, 'max'>;

// lru-cache reads `performance.now()` captured at import, which fake timers cannot move; the current
// clock read at call time keeps its TTLs in step with the cache's own expiry stamps.
const CLOCK = { now: (): number => currentClock().now() };

function defaultSize(value: unknown): number {
  try {
    const text = jsonSerializer.serialize(value);
    return typeof text === 'string' ? Math.max(1, text.length) : 1;
  } catch {
    return 1;
  }
}

/**
 * The default, in-memory cache store: an `lru-cache` bounded by entry count (`max`) and optionally
 * by size (`maxSize`). Values are kept by reference (see the cache's `clone` option). Share one
 * instance between several caches to bound them together; each cache's keys carry its namespace.
 *
 * @example
 * ```ts
 * const store = new LruStore({ max: 10_000, maxSize: 50_000_000 }); // sizes default to JSON length
 * const users = cache(fetchUser, { store, ttlMs: 60_000 });
 * const orders = cache(fetchOrder, { store, ttlMs: 5_000 });
 * ```
 */
export class LruStore implements CacheStore {
  /** @internal */
  readonly lru: LRUCache<string, Entry>;

  constructor(options?: LruStoreOptions) {
    const o = optionsObject('options', options, ['max', 'maxSize', 'sizeCalculation'], 'LruStore');
    const max = optionalNumber('max', o['max'], { min: 1, integer: true }) ?? DEFAULTS.max;
    const maxSize = optionalNumber('maxSize', o['maxSize'], { min: 1, integer: true });
    const size = optionalFunction<(value: unknown, key: string) => number>('sizeCalculation', o['sizeCalculation']);
    if (size !== undefined && maxSize === undefined) fail('maxSize', 'set when `sizeCalculation` is given', maxSize);
    const calc = size ?? defaultSize;
    this.lru = new (lru().LRUCache)<string, Entry>({
      max,
      ...(maxSize !== undefined
        ? {
            maxSize,
            sizeCalculation: (entry: Entry, key: string): number => {
              if (entry.e) return 1;
              const n = calc(entry.v, key);
              // lru-cache insists on a positive integer.
              return Number.isFinite(n) && n >= 1 ? Math.ceil(n) : 1;
            },
          }
        : {}),
      perf: CLOCK,
      // No timers: a ttlResolution > 0 makes lru-cache start a timer on clock reads.
      ttlResolution: 0,
      ttlAutopurge: false,
    });
  }

  /** The stored entry without marking it used (its LRU position stays as it is). Synchronous. */
  peek(key: string): unknown {
    return this.lru.peek(key);
  }

  /** The stored entry, or undefined. Synchronous. */
  get(key: string): unknown {
    return this.lru.get(key);
  }

  /** Stores an entry for `ttlMs` (none when undefined). Synchronous. */
  set(key: string, value: unknown, ttlMs?: number): void {
    if (ttlMs === undefined || ttlMs === Infinity) this.lru.set(key, value as Entry);
    else this.lru.set(key, value as Entry, { ttl: Math.max(1, Math.ceil(ttlMs)) });
  }

  /** Removes a key; true when it was there. */
  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.lru.clear();
  }

  /** The number of entries, expired ones included until they are read or evicted. */
  get size(): number {
    return this.lru.size;
  }
}
