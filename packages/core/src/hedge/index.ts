import { addMethod } from '../primitive.js';
import { hedge as hedgePrimitive, type HedgeOptions } from './hedge.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Starts extra attempts when the first is slow; see {@link hedge}. Added by `@weft/core/hedge`. */
    hedge(options?: HedgeOptions<O>): Primitive<I, O>;
  }
}

addMethod('hedge', hedgePrimitive);

export { hedge } from './hedge.js';
export type { HedgeInfo, HedgeOptions, HedgeQuantileDelay } from './hedge.js';
