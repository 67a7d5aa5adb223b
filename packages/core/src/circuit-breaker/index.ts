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
