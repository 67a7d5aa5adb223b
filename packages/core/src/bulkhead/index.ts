import { addMethod } from '../primitive.js';
import { bulkhead as bulkheadPrimitive, type BulkheadArg } from './bulkhead.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Limits concurrency with a bounded queue; see {@link bulkhead}. Added by `@weft/core/bulkhead`. */
    bulkhead(options: BulkheadArg): Primitive<I, O>;
  }
}

addMethod('bulkhead', bulkheadPrimitive);

export { bulkhead, Bulkhead } from './bulkhead.js';
export type { BulkheadOptions, BulkheadArg } from './bulkhead.js';
