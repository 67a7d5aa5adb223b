import KeyvRedis, { Keyv } from '@keyv/redis';
import type { DeserializedData } from 'keyv';
import type { CacheStore } from '@weft/core';
import { knownOptions, number, optionsObject } from '@weft/core/options';
import { MAX_TIMER, noop } from '../internal/timers.js';
import type { WeftRedis } from '../weft-redis.js';

/**
 * Options for {@link RedisCacheStore}.
 *
 * @example
 * ```ts
 * const options: RedisCacheStoreOptions = { maxTtlMs: 3_600_000 };
 * ```
 */
export interface RedisCacheStoreOptions {
  /**
   * The longest any entry may live, and the TTL of entries written without one (a cache with
   * `ttlMs: Infinity`), so that every key in Redis expires.
   * @default 86_400_000 (a day)
   */
  readonly maxTtlMs?: number;
}

const DEFAULTS = { maxTtlMs: 86_400_000 } as const satisfies Required<RedisCacheStoreOptions>;

/**
 * A `CacheStore` for `cache()` of `@weft/core`: Keyv with `@keyv/redis`, on the shared
 * {@link WeftRedis} connection. The cache hashes every key (`weft:<namespace>:v<version>:<sha256>`)
 * so no raw input reaches Redis; this store puts them under `<prefix>:cache:` and gives every
 * entry a TTL (capped by `maxTtlMs`).
 *
 * **Failure.** Reads and writes are bounded by the client's `commandTimeoutMs` (and the run's
 * deadline); a failed or slow read is a miss (`cache.request` with `store_error`) and the step
 * runs; a failed write is reported as `cache.set` with `ok: false`. Nothing hangs, nothing rejects
 * unhandled, and the next call after Redis returns uses it again.
 *
 * Prefer {@link redisCache}, which also shares single-flight across processes.
 *
 * @example
 * ```ts
 * const getUser = cache(fetchUser, { ttlMs: 60_000, store: new RedisCacheStore(redis) });
 * ```
 */
export class RedisCacheStore implements CacheStore {
  /** The Keyv instance, for code that wants the Keyv API. */
  readonly keyv: Keyv<string>;
  private readonly maxTtlMs: number;

  constructor(
    private readonly redis: WeftRedis,
    options?: RedisCacheStoreOptions,
  ) {
    const o = optionsObject('options', options);
    knownOptions('RedisCacheStore', o, ['maxTtlMs']);
    this.maxTtlMs = number('maxTtlMs', o.maxTtlMs, DEFAULTS.maxTtlMs, { min: 1, max: MAX_TIMER * 1000 });
    const adapter = new KeyvRedis<string>(redis.client, {
      namespace: redis.key('cache'),
      keyPrefixSeparator: ':',
      throwOnErrors: true,
      throwOnConnectError: true,
    });
    // One encoding: the cache hands this store a string (its own JSON of the entry, with its expiry),
    // and Redis expires the key by its TTL, so Keyv's { value, expires } JSON envelope would only
    // encode it a second time. The value is stored as is.
    this.keyv = new Keyv<string>({
      store: adapter,
      namespace: redis.key('cache'),
      useKeyPrefix: false,
      throwOnErrors: true,
      serialize: storeAsIs,
      deserialize: readAsIs,
    });
    // Errors reach the caller as rejections; these listeners only keep an unheard 'error' from throwing.
    adapter.on('error', noop);
    this.keyv.on('error', noop);
  }

  get(key: string): Promise<string | undefined> {
    return this.redis.bounded(() => this.keyv.get(key));
  }

  set(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    const ttl = ttlMs === undefined || !(ttlMs > 0) ? this.maxTtlMs : Math.min(Math.ceil(ttlMs), this.maxTtlMs);
    return this.redis.bounded(() => this.keyv.set(key, value as string, ttl));
  }

  delete(key: string): Promise<boolean> {
    return this.redis.bounded(() => this.keyv.delete(key));
  }
}

/** Keyv's serializer for a store of strings: the value itself, no envelope. */
function storeAsIs<Value>(data: DeserializedData<Value>): string {
  const value: unknown = data.value;
  if (typeof value !== 'string') throw new TypeError(`RedisCacheStore stores strings (the cache's own encoding), got ${typeof value}`);
  return value;
}

/** The inverse of {@link storeAsIs}: what Redis holds is the value; Redis's TTL is the expiry. */
function readAsIs<Value>(text: string): DeserializedData<Value> {
  return { value: text as Value };
}
