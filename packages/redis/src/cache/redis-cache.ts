import { Cache, cache, Primitive, type CacheOptions } from '@weft/core';
import { fail, optionsObject } from '@weft/core/options';
import type { WeftRedis } from '../weft-redis.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { sharedSingleFlight, type SharedSingleFlightOptions } from './shared-single-flight.js';

/**
 * Options for {@link redisCache}: those of `cache()` (without the in-memory store's), plus the
 * Redis store's TTL cap and the cross-process single-flight.
 *
 * @example
 * ```ts
 * const options: RedisCacheOptions<string, User> = { ttlMs: 60_000, singleFlight: { waitTimeoutMs: 2_000 } };
 * ```
 */
export interface RedisCacheOptions<I = unknown, O = unknown> extends Omit<CacheOptions<I, O>, 'store' | 'max' | 'maxSize' | 'sizeCalculation' | 'clone'> {
  /**
   * The longest any entry may live in Redis, and the TTL of entries of a cache with `ttlMs: Infinity`.
   * @default 86_400_000
   */
  readonly maxTtlMs?: number;
  /**
   * Cross-process single-flight: `false` to turn it off, or its options (see
   * {@link SharedSingleFlightOptions}; the key is the cache's own).
   * @default {} (on, with its defaults)
   */
  readonly singleFlight?: false | Omit<SharedSingleFlightOptions<I>, 'key'>;
}

/**
 * `cache()` backed by Redis, for a fleet: one process's result is a hit in every other, and
 * concurrent identical misses across processes compute once (see {@link sharedSingleFlight}).
 * Keys are namespaced and hashed (`<prefix>:cache:weft:<namespace>:v<version>:<sha256>`), every
 * entry has a TTL, and when Redis is down or slow the cache misses and the step runs.
 *
 * @example
 * ```ts
 * const redis = createWeftRedis({ url: process.env.REDIS_URL });
 * const getRates = redisCache(fetchRates, redis, { ttlMs: 30_000 });
 * await getRates.run('EUR');
 * ```
 */
export function redisCache<I, O>(primitive: Primitive<I, O>, redis: WeftRedis, options?: RedisCacheOptions<I, O>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const o = optionsObject('options', options) as RedisCacheOptions<I, O>;
  const { maxTtlMs, singleFlight, ...cacheOptions } = o;
  const store = new RedisCacheStore(redis, maxTtlMs === undefined ? undefined : { maxTtlMs });
  const handle = new Cache<I, O>({ ...cacheOptions, namespace: cacheOptions.namespace ?? primitive.name, store });
  if (singleFlight === false) return cache(primitive, handle);
  if (singleFlight !== undefined && (typeof singleFlight !== 'object' || singleFlight === null)) fail('singleFlight', 'false or an options object', singleFlight);
  const shared = sharedSingleFlight(primitive, redis, { ...singleFlight, key: (input, ctx) => handle.keyFor(input, ctx) });
  return cache(shared, handle);
}
