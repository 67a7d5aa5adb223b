// PLACEHOLDER: replaced by the fallback implementation.
import type { Primitive } from '../primitive.js';
export interface FallbackOptions { readonly when?: (error: unknown) => boolean }
export type FallbackArgs<I, O> = [Primitive<I, O>, ...Array<Primitive<I, O>>] | [...Array<Primitive<I, O>>, FallbackOptions];
export function fallback<I, O>(primitive: Primitive<I, O>, ..._args: FallbackArgs<I, O>): Primitive<I, O> {
  void primitive;
  throw new Error('fallback: not implemented yet');
}
