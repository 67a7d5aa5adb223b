/**
 * `@weft/core/stores`: what a store implementation shares with Weft's own (the Redis stores in
 * `@weft/redis` use it): waiting for a store bounded by a timeout and the caller's abort, and
 * errors encoded to JSON and back.
 *
 * @packageDocumentation
 */
export { awaitStore, type AbortWatch, type AwaitStoreOptions, type StoreAnswer } from '../internal/await-store.js';
export { errorFromJson, errorToJson, type ErrorJson } from '../internal/error-json.js';
