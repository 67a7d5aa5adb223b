export { rateLimit, RateLimiter } from './rate-limit.js';
export type { RateLimitOptions, RateLimitArg, RateLimitMode } from './rate-limit.js';
export { LocalRateLimitStore } from './local-rate-limit-store.js';
export type { RateLimitStore, RateLimitDecision, TokenBucketConfig } from './rate-limit-store.js';
