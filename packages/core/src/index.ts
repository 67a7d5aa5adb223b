/**
 * `@weft/core`: the primitive contract, run context, composition, errors and every resilience
 * primitive, each with its fluent method (`s.retry()`, `s.timeout()`, ...). Each primitive is
 * also importable alone from its own subpath (`@weft/core/retry`, ...), which loads only that
 * primitive. The rxjs event stream lives in `@weft/core/events`; `onEvent()` needs no rxjs.
 *
 * @packageDocumentation
 */
export { Primitive, definePrimitive } from './primitive.js';
export type { RunOptions, RunResult } from './primitive.js';
export { step } from './step/index.js';
export type { StepFn, StepDefinition, Schema } from './step/index.js';
export { sequence, parallel, branch } from './composition/index.js';
export type { ParallelOptions, BranchPredicate } from './composition/index.js';

export { currentContext, secretValues, otelContextOf } from './internal/ctx.js';
export { redactSecrets, REDACTED } from './context/redact.js';
export type { RunContext, RunAttributes } from './context/run-context.js';
export { checkCorrelationId, resolveCorrelationId, newCorrelationId, MAX_CORRELATION_ID_LENGTH } from './context/correlation-id.js';
export type { CorrelationIdRejection } from './context/correlation-id.js';

export { onEvent, type OnEventOptions } from './events/on-event.js';
export { systemClock, currentClock, useClock } from './clock/index.js';
export type { Clock, TimerHandle } from './clock/index.js';
export type { Outcome, EventBase, RunStartedEvent, RunFinishedEvent, StepStartedEvent, StepFinishedEvent, CorrelationIdReplacedEvent, RetryAttemptEvent, RetryScheduledEvent, RetryGaveUpEvent, RetrySucceededEvent, TimeoutEvent, FallbackServedEvent, FallbackExhaustedEvent, CircuitState, CircuitStateChangedEvent, CircuitRejectedEvent, BulkheadRejectedEvent, BulkheadQueuedEvent, RateLimitedEvent, RateLimitWaitedEvent, RateLimitStoreErrorEvent, HedgeStartedEvent, HedgeWonEvent, ChaosInjectedEvent, CacheResult, CacheEvent, CacheSetEvent, CacheRefreshEvent, CacheSetFailure, RouteChosenEvent, SagaFinishedEvent, SagaCompensatedEvent, SagaTakeoverEvent, StreamFirstChunkEvent, StreamFinishedEvent, CostRecordedEvent, BudgetEvent, BudgetStoreErrorEvent, WeftEvent, WeftEventType, EventOf, EventPayload } from './events/event-types.js';

export { WeftError, isWeftError } from './errors/index.js';
export type { WeftErrorCode } from './errors/index.js';
export { ValidationError, isValidationError } from './errors/index.js';
export type { ValidationIssue } from './errors/index.js';
export { TimeoutError, isTimeoutError } from './errors/index.js';
export { AbortedError, isAbortedError } from './errors/index.js';
export { RetryExhaustedError, isRetryExhaustedError } from './errors/index.js';
export { FallbackError, isFallbackError } from './errors/index.js';
export { CircuitOpenError, isCircuitOpenError } from './errors/index.js';
export type { CircuitOpenDetails, CircuitRefusingState } from './errors/index.js';
export { BulkheadRejectedError, isBulkheadRejectedError } from './errors/index.js';
export { RateLimitedError, isRateLimitedError } from './errors/index.js';
export { ChaosError, isChaosError } from './errors/index.js';
export { RouteNotFoundError, isRouteNotFoundError } from './errors/index.js';
export { BudgetExceededError, isBudgetExceededError } from './errors/index.js';
export { CompensationError, isCompensationError, SagaConflictError, isSagaConflictError, StreamInterruptedError, isStreamInterruptedError } from './errors/index.js';
export { NonErrorThrown, isNonErrorThrown, toError } from './errors/index.js';
export { classifyError } from './errors/index.js';
export { isExpectedError, markExpected, runOutcome } from './errors/index.js';
export type { AbortSource } from './errors/index.js';
export type { RunOutcome } from './errors/index.js';
export type { ErrorClass, ErrorClassification } from './errors/index.js';

export { retry, retryAfterFrom } from './retry/index.js';
export type { RetryOptions, RetryArg, RetryJitter, RetryBackoff, RetryInfo, RetryGiveUpInfo } from './retry/index.js';
export { timeout } from './timeout/index.js';
export type { TimeoutInfo, TimeoutMode, TimeoutOptions } from './timeout/index.js';
export { fallback } from './fallback/index.js';
export type { FallbackAlternative, FallbackArgs, FallbackFn, FallbackInfo, FallbackOptions } from './fallback/index.js';
export { circuitBreaker, CircuitBreaker } from './circuit-breaker/index.js';
export type { CircuitBreakerArg, CircuitBreakerBackoff, CircuitBreakerMode, CircuitBreakerOptions, CircuitBreakerSnapshot, CircuitStateChange, IsolationHandle } from './circuit-breaker/index.js';
export { bulkhead, Bulkhead } from './bulkhead/index.js';
export type { BulkheadOptions, BulkheadArg } from './bulkhead/index.js';
export { rateLimit, RateLimiter, LocalRateLimitStore } from './rate-limit/index.js';
export type { RateLimitOptions, RateLimitArg, RateLimitMode, RateLimitStore, RateLimitDecision, TokenBucketConfig } from './rate-limit/index.js';
export { hedge } from './hedge/index.js';
export type { HedgeInfo, HedgeOptions, HedgeQuantileDelay } from './hedge/index.js';
export { chaos, CHAOS_ENV, seededRandom } from './chaos/index.js';
export type { ChaosOptions, ChaosFault, ChaosLatency, ChaosResult } from './chaos/index.js';
export { recordCost, cost, llmUsage, getLedger, createPriceTable, defaultPriceTable, DEFAULT_PRICES, PRICES_AS_OF, budget, LocalBudgetStore } from './cost/index.js';
export type { CostUsage, RecordCostOptions, CostOptions, CostLedger, CostEntry, PriceTable, PriceTableOptions, ModelPrice, BudgetOptions, BudgetWindow, BudgetStore, BudgetCharge, LocalBudgetStoreOptions } from './cost/index.js';
export { route, byWeight, byCost } from './route/index.js';
export type { RouteSelector, RouteStrategy, RouteOptions, RouteReason, WeightedOptions, CostOptions as RouteCostOptions, RouteMeta, RouteRequirement, MetaSource as RouteMetaSource } from './route/index.js';
export { saga, recoverSagas, superviseSagas, MemorySagaLog } from './saga/index.js';
export type { SagaStep, SagaOptions, SagaPersist, CompensationArgs, CompensateFn, CompensationRetry, RecoverOptions, SuperviseOptions, SagaSupervisor, SagaRecovery, SagaLog, SagaLease, SagaEntry, SagaStartedEntry, SagaRecord, SagaOutcome, MemorySagaLogOptions } from './saga/index.js';
export { cache, Cache, LruStore, TieredStore, jsonSerializer, stableHash } from './cache/index.js';
export type { CacheOptions, CacheArg, CacheStore, LruStoreOptions, TieredStoreOptions, CacheSerializer } from './cache/index.js';
