import { addMethod } from '../primitive.js';
import { cache as cachePrimitive, type CacheOptions, type Cache as CacheHandle } from './cache.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Caches results by input, with single-flight and stale-while-revalidate; see {@link cache}. Added by `@weft/core/cache`. */
    // A Cache handle's own I/O types are not checked here: they would make Primitive invariant.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    cache(options?: CacheOptions<I, O> | CacheHandle<any, any>): Primitive<I, O>;
  }
}

addMethod('cache', cachePrimitive);

export { cache, Cache } from './cache.js';
export type { CacheOptions, CacheArg } from './cache.js';
export type { CacheStore } from './cache-store.js';
export { LruStore } from './lru-store.js';
export type { LruStoreOptions } from './lru-store.js';
export { TieredStore } from './tiered-store.js';
export type { TieredStoreOptions } from './tiered-store.js';
export { jsonSerializer } from './serializer.js';
export type { CacheSerializer } from './serializer.js';
export { stableHash } from './stable-hash.js';
