export { retry } from './retry.js';
export type { RetryOptions, RetryArg, RetryJitter } from './retry.js';
export { retryAfterFrom } from './retry-after.js';
