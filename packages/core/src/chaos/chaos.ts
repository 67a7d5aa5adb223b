// PLACEHOLDER: replaced by the chaos implementation.
import type { Primitive } from '../primitive.js';
export interface ChaosOptions<O = unknown> { readonly rate?: number; readonly result?: O }
export function chaos<I, O>(primitive: Primitive<I, O>, _options: ChaosOptions<O>): Primitive<I, O> {
  void primitive;
  throw new Error('chaos: not implemented yet');
}
