import { LocalBudgetStore, TieredStore, type BudgetStore, type CacheStore, type RateLimitStore } from '@weft/core';
import { createWeftRedis, RedisBudgetStore, RedisCacheStore, RedisRateLimitStore, type WeftRedis } from '@weft/redis';

/** Where the gateway keeps shared state: in memory by default, in Redis when `REDIS_URL` is set. */
export interface Stores {
  /** The Redis connection when configured; readiness checks it. */
  readonly redis: WeftRedis | undefined;
  /**
   * The answer cache's store; undefined means the cache's own in-memory LRU. With Redis, a
   * {@link TieredStore}: a local copy in front of Redis, so hits keep answering while Redis is down.
   */
  readonly cache: CacheStore | undefined;
  readonly budget: BudgetStore;
  /** The per-key rate limits' store; undefined means in-memory buckets. */
  readonly rateLimit: RateLimitStore | undefined;
  /** Closes the Redis connection, if any. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the stores: in-memory ones, or every one in Redis when `redisUrl` is given. The Redis
 * connection comes up in the background and reconnects by itself; stores degrade while it is down.
 *
 * @example
 * ```ts
 * const stores = createStores({ redisUrl: process.env.REDIS_URL, redisPrefix: 'gateway' });
 * // ... on shutdown
 * await stores.close();
 * ```
 */
export function createStores(options: {
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  /** The cache's local tier in front of Redis; `max: 0` (or leaving it out) keeps every answer in Redis only. */
  readonly cacheLocal?: { readonly max: number; readonly localTtlMs: number };
  readonly onRedisError?: (error: Error) => void;
}): Stores {
  if (options.redisUrl === undefined) {
    return { redis: undefined, cache: undefined, budget: new LocalBudgetStore(), rateLimit: undefined, close: () => Promise.resolve() };
  }
  const redis = createWeftRedis({ url: options.redisUrl, prefix: options.redisPrefix, ...(options.onRedisError ? { onError: options.onRedisError } : {}) });
  const shared = new RedisCacheStore(redis);
  const local = options.cacheLocal;
  return {
    redis,
    cache: local === undefined || local.max === 0 ? shared : new TieredStore(shared, local),
    budget: new RedisBudgetStore(redis),
    rateLimit: new RedisRateLimitStore(redis),
    close: () => redis.close(),
  };
}
