import { addMethod } from '../primitive.js';
import { chaos as chaosPrimitive, type ChaosOptions } from './chaos.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Injects faults, latency or results, for testing resilience; see {@link chaos}. Added by `@weft/core/chaos`. */
    chaos(options: ChaosOptions<O, I>): Primitive<I, O>;
  }
}

addMethod('chaos', chaosPrimitive);

export { chaos, CHAOS_ENV } from './chaos.js';
export type { ChaosOptions, ChaosFault, ChaosLatency, ChaosResult } from './chaos.js';
export { seededRandom } from '../internal/seeded-random.js';
