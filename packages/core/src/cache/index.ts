export { cache, Cache } from './cache.js';
export type { CacheOptions, CacheArg } from './cache.js';
export type { CacheStore } from './cache-store.js';
export { LruStore } from './lru-store.js';
export type { LruStoreOptions } from './lru-store.js';
export { jsonSerializer } from './serializer.js';
export type { CacheSerializer } from './serializer.js';
export { stableHash } from './stable-hash.js';
