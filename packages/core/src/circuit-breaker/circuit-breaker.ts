// PLACEHOLDER: replaced by the circuit breaker implementation.
import type { Primitive } from '../primitive.js';
export interface CircuitBreakerOptions { readonly name?: string }
export class CircuitBreaker { constructor(readonly options: CircuitBreakerOptions = {}) {} }
export type CircuitBreakerArg = CircuitBreakerOptions | CircuitBreaker;
export function circuitBreaker<I, O>(primitive: Primitive<I, O>, _options?: CircuitBreakerArg): Primitive<I, O> {
  void primitive;
  throw new Error('circuitBreaker: not implemented yet');
}
