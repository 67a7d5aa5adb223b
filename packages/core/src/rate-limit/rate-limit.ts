// PLACEHOLDER: replaced by the rate limit implementation.
import type { Primitive } from '../primitive.js';
export interface RateLimitOptions { readonly rate: number }
export class RateLimiter { constructor(readonly options: RateLimitOptions) {} }
export type RateLimitArg = RateLimitOptions | RateLimiter;
export function rateLimit<I, O>(primitive: Primitive<I, O>, _options: RateLimitArg): Primitive<I, O> {
  void primitive;
  throw new Error('rateLimit: not implemented yet');
}
