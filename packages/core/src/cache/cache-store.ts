import { fail } from '../internal/validate-options.js';

/**
 * Where a cache keeps its entries. Every method may answer synchronously or with a promise.
 * A `Keyv` instance satisfies it as is (so any Keyv adapter, such as `@keyv/redis`, works), and so
 * does the in-memory {@link LruStore}, the default.
 *
 * Keys are `weft:<namespace>:v<version>:<sha256>`; values are strings produced by the cache's
 * serializer (or, for an {@link LruStore} only, entry objects kept by reference).
 *
 * @example
 * ```ts
 * import Keyv from 'keyv';
 * import KeyvRedis from '@keyv/redis';
 * const store: CacheStore = new Keyv(new KeyvRedis('redis://localhost:6379'));
 * const cached = cache(fetchUser, { store, ttlMs: 60_000 });
 * ```
 */
export interface CacheStore {
  /** The stored value, or `undefined` (or `null`) when there is none or it expired. */
  get(key: string): unknown;
  /**
   * Stores a value for `ttlMs` milliseconds (`undefined`: no expiry). A result of exactly `false`
   * (what Keyv returns when its store fails) counts as a failed write.
   */
  set(key: string, value: unknown, ttlMs?: number): unknown;
  /** Removes a key. */
  delete(key: string): unknown;
  /** Removes every key; optional. Note that it clears the whole store, whatever the namespace. */
  clear?(): unknown;
}

/** @internal Duck-types a store, so Keyv need not be a dependency. */
export function checkStore(option: string, value: unknown): CacheStore {
  const s = value as Partial<Record<keyof CacheStore, unknown>> | null;
  if (typeof s !== 'object' || s === null || typeof s.get !== 'function' || typeof s.set !== 'function' || typeof s.delete !== 'function') {
    fail(option, 'a cache store (an object with get, set and delete methods, such as a Keyv instance or an LruStore)', value);
  }
  return s as CacheStore;
}
