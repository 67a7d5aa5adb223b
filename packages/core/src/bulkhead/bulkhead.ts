// PLACEHOLDER: replaced by the bulkhead implementation.
import type { Primitive } from '../primitive.js';
export interface BulkheadOptions { readonly maxConcurrent: number; readonly maxQueue?: number }
export class Bulkhead { constructor(readonly options: BulkheadOptions) {} }
export type BulkheadArg = BulkheadOptions | Bulkhead;
export function bulkhead<I, O>(primitive: Primitive<I, O>, _options: BulkheadArg): Primitive<I, O> {
  void primitive;
  throw new Error('bulkhead: not implemented yet');
}
