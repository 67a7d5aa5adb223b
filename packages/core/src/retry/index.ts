import { addMethod } from '../primitive.js';
import { retry as retryPrimitive, type RetryArg } from './retry.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Retries on failure with backoff; see {@link retry}. Added by `@weft/core/retry`. */
    retry(options?: RetryArg<O>): Primitive<I, O>;
  }
}

addMethod('retry', retryPrimitive);

export { retry } from './retry.js';
export type { RetryOptions, RetryArg, RetryJitter, RetryBackoff, RetryInfo, RetryGiveUpInfo } from './retry.js';
export { retryAfterFrom } from './retry-after.js';
