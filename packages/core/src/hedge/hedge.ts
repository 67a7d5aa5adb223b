// PLACEHOLDER: replaced by the hedge implementation.
import type { Primitive } from '../primitive.js';
export interface HedgeOptions { readonly delayMs?: number }
export function hedge<I, O>(primitive: Primitive<I, O>, _options?: HedgeOptions): Primitive<I, O> {
  void primitive;
  throw new Error('hedge: not implemented yet');
}
