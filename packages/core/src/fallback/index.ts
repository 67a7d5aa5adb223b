import { addMethod } from '../primitive.js';
import { fallback as fallbackPrimitive, type FallbackArgs } from './fallback.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Tries alternatives in order when this fails; see {@link fallback}. Added by `@weft/core/fallback`. */
    fallback(...args: FallbackArgs<I, O>): Primitive<I, O>;
  }
}

addMethod('fallback', fallbackPrimitive);

export { fallback } from './fallback.js';
export type { FallbackAlternative, FallbackArgs, FallbackFn, FallbackInfo, FallbackOptions } from './fallback.js';
