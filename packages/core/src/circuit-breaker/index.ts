import { addMethod } from '../primitive.js';
import { circuitBreaker as circuitBreakerPrimitive, type CircuitBreakerArg } from './circuit-breaker.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Sheds calls while a dependency is failing; see {@link circuitBreaker}. Added by `@weft/core/circuit-breaker`. */
    circuitBreaker(options?: CircuitBreakerArg<O>): Primitive<I, O>;
  }
}

addMethod('circuitBreaker', circuitBreakerPrimitive);

export { CircuitBreaker, circuitBreaker } from './circuit-breaker.js';
export type {
  CircuitBreakerArg,
  CircuitBreakerBackoff,
  CircuitBreakerMode,
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  CircuitStateChange,
  IsolationHandle,
} from './circuit-breaker.js';
