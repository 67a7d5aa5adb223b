import { addMethod } from '../primitive.js';
import { timeout as timeoutPrimitive, type TimeoutOptions } from './timeout.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Bounds each call by a time limit that also clamps to outer deadlines; see {@link timeout}. Added by `@weft/core/timeout`. */
    timeout(options: number | TimeoutOptions): Primitive<I, O>;
  }
}

addMethod('timeout', timeoutPrimitive);

export { timeout } from './timeout.js';
export type { TimeoutInfo, TimeoutMode, TimeoutOptions } from './timeout.js';
