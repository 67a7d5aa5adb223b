/** Outcome of a finished run or step. */
export type Outcome = 'success' | 'error';

/** Fields every event carries. Names come from code; `correlationId` is for logs and spans, never metric labels. */
export interface EventBase {
  /** The workflow (outermost primitive) name. */
  readonly workflow: string;
  /** The name of the step or primitive that emitted the event. */
  readonly step: string;
  /** The kind of primitive that emitted it: `step`, `retry`, `timeout`, ... */
  readonly primitive: string;
  readonly correlationId: string;
  readonly runId: string;
  /** `performance.timeOrigin + performance.now()` at emission, in ms. */
  readonly time: number;
}

export interface RunStartedEvent extends EventBase { readonly type: 'run.started' }
export interface RunFinishedEvent extends EventBase {
  readonly type: 'run.finished';
  readonly outcome: Outcome;
  readonly durationMs: number;
  readonly error?: unknown;
  /** Trace ID of the run's span when it is recording; for exemplars. */
  readonly traceId?: string;
}
export interface StepStartedEvent extends EventBase { readonly type: 'step.started'; readonly attempt: number }
export interface StepFinishedEvent extends EventBase {
  readonly type: 'step.finished';
  readonly outcome: Outcome;
  readonly durationMs: number;
  readonly attempt: number;
  readonly error?: unknown;
  readonly traceId?: string;
}
/** The correlation ID supplied by the caller was malformed and replaced. */
export interface CorrelationIdReplacedEvent extends EventBase { readonly type: 'context.correlation_id_replaced'; readonly reason: 'too_long' | 'invalid_characters' | 'empty' }

export interface RetryAttemptEvent extends EventBase { readonly type: 'retry.attempt'; readonly attempt: number }
export interface RetryScheduledEvent extends EventBase {
  readonly type: 'retry.scheduled';
  readonly attempt: number;
  readonly delayMs: number;
  readonly error?: unknown;
  /** Whether a delay came from the error's `retryAfter` hint. */
  readonly hinted: boolean;
}
export interface RetryGaveUpEvent extends EventBase { readonly type: 'retry.gave_up'; readonly attempts: number; readonly error: unknown; readonly reason: 'exhausted' | 'not_retryable' | 'deadline' | 'aborted' }
export interface RetrySucceededEvent extends EventBase { readonly type: 'retry.succeeded'; readonly attempts: number }

export interface TimeoutEvent extends EventBase {
  readonly type: 'timeout.expired';
  readonly timeoutMs: number;
  /** True when the function did not settle when the timeout fired: it may still be running if it ignores its signal. */
  readonly mayStillBeRunning: boolean;
}

export interface FallbackServedEvent extends EventBase {
  readonly type: 'fallback.served';
  /** 0 is the primary; 1.. the alternatives in order. */
  readonly index: number;
  /** Name of the primitive that served. */
  readonly served: string;
  readonly errors: ReadonlyArray<unknown>;
}
export interface FallbackExhaustedEvent extends EventBase { readonly type: 'fallback.exhausted'; readonly errors: ReadonlyArray<unknown> }

export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';
export interface CircuitStateChangedEvent extends EventBase { readonly type: 'circuit.state_changed'; readonly breaker: string; readonly from: CircuitState; readonly to: CircuitState }
export interface CircuitRejectedEvent extends EventBase { readonly type: 'circuit.rejected'; readonly breaker: string; readonly state: CircuitState }

export interface BulkheadRejectedEvent extends EventBase { readonly type: 'bulkhead.rejected'; readonly active: number; readonly queued: number }
export interface BulkheadQueuedEvent extends EventBase { readonly type: 'bulkhead.queued'; readonly queued: number }

export interface RateLimitedEvent extends EventBase { readonly type: 'ratelimit.rejected'; readonly retryAfterMs: number }
export interface RateLimitWaitedEvent extends EventBase { readonly type: 'ratelimit.waited'; readonly waitedMs: number }
export interface RateLimitStoreErrorEvent extends EventBase { readonly type: 'ratelimit.store_error'; readonly error: unknown }

export interface HedgeStartedEvent extends EventBase { readonly type: 'hedge.started'; readonly attempt: number; readonly delayMs: number }
export interface HedgeWonEvent extends EventBase { readonly type: 'hedge.won'; readonly attempt: number; readonly hedged: boolean }

export interface ChaosInjectedEvent extends EventBase { readonly type: 'chaos.injected'; readonly fault: 'error' | 'latency' | 'result'; readonly latencyMs?: number }

export type CacheResult = 'hit' | 'miss' | 'stale' | 'store_error';
export interface CacheEvent extends EventBase { readonly type: 'cache.request'; readonly cache: string; readonly result: CacheResult; readonly error?: unknown }
export interface CacheSetEvent extends EventBase { readonly type: 'cache.set'; readonly cache: string; readonly ok: boolean; readonly error?: unknown }

export interface RouteChosenEvent extends EventBase { readonly type: 'route.chosen'; readonly route: string; readonly reason: 'selector' | 'default' | 'weighted' | 'cost' }

export interface SagaFinishedEvent extends EventBase { readonly type: 'saga.finished'; readonly saga: string; readonly outcome: 'completed' | 'compensated' | 'compensation_failed' }
export interface SagaCompensatedEvent extends EventBase { readonly type: 'saga.compensation'; readonly saga: string; readonly compensatedStep: string; readonly outcome: Outcome; readonly error?: unknown }

export interface CostRecordedEvent extends EventBase { readonly type: 'cost.recorded'; readonly amount: number; readonly model?: string; readonly inputTokens?: number; readonly outputTokens?: number; readonly currency: string }
export interface BudgetEvent extends EventBase {
  readonly type: 'budget.warning' | 'budget.exceeded' | 'budget.usage';
  readonly budget: string;
  readonly spent: number;
  readonly limit: number;
  /** spent / limit */
  readonly utilisation: number;
}
export interface BudgetStoreErrorEvent extends EventBase { readonly type: 'budget.store_error'; readonly budget: string; readonly failOpen: boolean; readonly error: unknown }

/** Everything Weft reports. Discriminate on `type`. */
export type WeftEvent =
  | RunStartedEvent
  | RunFinishedEvent
  | StepStartedEvent
  | StepFinishedEvent
  | CorrelationIdReplacedEvent
  | RetryAttemptEvent
  | RetryScheduledEvent
  | RetryGaveUpEvent
  | RetrySucceededEvent
  | TimeoutEvent
  | FallbackServedEvent
  | FallbackExhaustedEvent
  | CircuitStateChangedEvent
  | CircuitRejectedEvent
  | BulkheadRejectedEvent
  | BulkheadQueuedEvent
  | RateLimitedEvent
  | RateLimitWaitedEvent
  | RateLimitStoreErrorEvent
  | HedgeStartedEvent
  | HedgeWonEvent
  | ChaosInjectedEvent
  | CacheEvent
  | CacheSetEvent
  | RouteChosenEvent
  | SagaFinishedEvent
  | SagaCompensatedEvent
  | CostRecordedEvent
  | BudgetEvent
  | BudgetStoreErrorEvent;

/** The `type` of every event. */
export type WeftEventType = WeftEvent['type'];

/** The event whose `type` is T. */
export type EventOf<T extends WeftEventType> = Extract<WeftEvent, { type: T }>;

/** An event without the fields the emitter fills in from the context. */
export type EventPayload<E extends WeftEvent = WeftEvent> = E extends WeftEvent ? Omit<E, keyof EventBase> & Partial<Pick<EventBase, 'step' | 'primitive'>> : never;
