import { addMethod } from '../primitive.js';
import { rateLimit as rateLimitPrimitive, type RateLimitArg } from './rate-limit.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Limits the call rate with a token bucket; see {@link rateLimit}. Added by `@weft/core/rate-limit`. */
    rateLimit(options: RateLimitArg): Primitive<I, O>;
  }
}

addMethod('rateLimit', rateLimitPrimitive);

export { rateLimit, RateLimiter } from './rate-limit.js';
export type { RateLimitOptions, RateLimitArg, RateLimitMode } from './rate-limit.js';
export { LocalRateLimitStore } from './local-rate-limit-store.js';
export type { RateLimitStore, RateLimitDecision, TokenBucketConfig } from './rate-limit-store.js';
