// PLACEHOLDER: replaced by the retry implementation.
import type { Primitive } from '../primitive.js';
export interface RetryOptions<O = unknown> { readonly retries?: number; readonly retryIf?: (result: O) => boolean }
export function retry<I, O>(primitive: Primitive<I, O>, _options?: RetryOptions<O>): Primitive<I, O> {
  void primitive;
  throw new Error('retry: not implemented yet');
}
