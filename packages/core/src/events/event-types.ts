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

/**
 * An attempt of a retried primitive is starting (attempt 1 included). `final` says, before it runs,
 * whether the retry count leaves no attempt after it.
 */
export interface RetryAttemptEvent extends EventBase {
  readonly type: 'retry.attempt';
  /** 1-based. */
  readonly attempt: number;
  /** Attempts the retry allows (`retries + 1`); `Infinity` when unbounded. */
  readonly maxAttempts: number;
  /**
   * True when this is the last attempt the count allows: if it fails, the retry gives up.
   * A retry can also give up earlier (deadline, not retryable, aborted); the exact signal is that
   * every failed attempt is followed by exactly one `retry.scheduled` (intermediate) or
   * `retry.gave_up` (final) event.
   */
  readonly final: boolean;
}
/**
 * An attempt failed (or its result was rejected by `retryIf`) and another is scheduled after `delayMs`.
 * Always an intermediate failure: log it at `warn`; the final failure is `retry.gave_up`.
 */
export interface RetryScheduledEvent extends EventBase {
  readonly type: 'retry.scheduled';
  /** The attempt that failed; the next one is `attempt + 1`. */
  readonly attempt: number;
  readonly delayMs: number;
  /** The attempt's error; undefined when `retryIf` rejected a result. */
  readonly error?: unknown;
  /** The result `retryIf` rejected, when that is why it retries. */
  readonly result?: unknown;
  /** Whether a delay came from the error's `retryAfter` hint. */
  readonly hinted: boolean;
  /** Always false: more attempts follow. Lets a logger pick `warn` vs `error` from one field on both events. */
  readonly final: false;
}
/**
 * The retry stopped without success: the final failure, to log at `error`. Emitted exactly once per
 * call that ends without success (including a first attempt that is not retryable).
 */
export interface RetryGaveUpEvent extends EventBase {
  readonly type: 'retry.gave_up';
  /** Attempts made. */
  readonly attempts: number;
  /**
   * What ended it: the last attempt's error (or the error thrown by a `retryOn`/`retryIf`/`retryAfter`
   * callback), or the abort reason when `reason` is `aborted`; undefined when `retryIf` results ran out.
   */
  readonly error: unknown;
  /** The last result when `retryIf` kept rejecting results; the call resolves with it. */
  readonly result?: unknown;
  /**
   * `exhausted`: no attempts left; `deadline`: the next delay would end past `ctx.deadline`;
   * `not_retryable`: `ValidationError`, an abort error, or `retryOn` said no; `aborted`: the run's scope aborted.
   */
  readonly reason: 'exhausted' | 'not_retryable' | 'deadline' | 'aborted';
  /** Always true: no attempt follows. */
  readonly final: true;
}
/** An attempt after at least one retry succeeded. */
export interface RetrySucceededEvent extends EventBase { readonly type: 'retry.succeeded'; readonly attempts: number }

export interface TimeoutEvent extends EventBase {
  readonly type: 'timeout.expired';
  /** The limit that fired: the configured one, or less when an outer deadline came first. */
  readonly timeoutMs: number;
  /** The configured limit. */
  readonly configuredMs: number;
  /** True when an outer deadline was earlier than the configured limit. */
  readonly clampedByDeadline: boolean;
  /** True when the function did not settle when the timeout fired: it may still be running if it ignores its signal. */
  readonly mayStillBeRunning: boolean;
}

export interface FallbackServedEvent extends EventBase {
  readonly type: 'fallback.served';
  /**
   * Which alternative served: 1 is the first alternative, 2 the second, ... Never 0: the event is
   * emitted only when an alternative served, so counting it counts fallbacks.
   */
  readonly index: number;
  /** Name of the alternative that served (a function alternative's own name, or `alternative-<index>`). */
  readonly served: string;
  /** The errors that led to it, in order, primary first. */
  readonly errors: ReadonlyArray<unknown>;
}
export interface FallbackExhaustedEvent extends EventBase { readonly type: 'fallback.exhausted'; readonly errors: ReadonlyArray<unknown> }

export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';
export interface CircuitStateChangedEvent extends EventBase { readonly type: 'circuit.state_changed'; readonly breaker: string; readonly from: CircuitState; readonly to: CircuitState }
export interface CircuitRejectedEvent extends EventBase {
  readonly type: 'circuit.rejected';
  readonly breaker: string;
  readonly state: CircuitState;
  /** Milliseconds until the breaker will admit a probe, when known (open, not half-open or isolated). */
  readonly retryAfterMs?: number;
}

/** A call found every slot taken and the queue full. */
export interface BulkheadRejectedEvent extends EventBase {
  readonly type: 'bulkhead.rejected';
  /** The bulkhead's name (a name written in code). */
  readonly bulkhead: string;
  readonly active: number;
  readonly queued: number;
}
/** A call waits for a slot; `queued` counts it. */
export interface BulkheadQueuedEvent extends EventBase {
  readonly type: 'bulkhead.queued';
  /** The bulkhead's name (a name written in code). */
  readonly bulkhead: string;
  readonly queued: number;
}

/** A call got no token: at once in `reject` mode, or because none could come before its deadline in `wait` mode. */
export interface RateLimitedEvent extends EventBase {
  readonly type: 'ratelimit.rejected';
  /** The limiter's key (a name written in code). */
  readonly limiter: string;
  readonly retryAfterMs: number;
}
/** A call waited for its token, in `wait` mode. */
export interface RateLimitWaitedEvent extends EventBase {
  readonly type: 'ratelimit.waited';
  /** The limiter's key (a name written in code). */
  readonly limiter: string;
  readonly waitedMs: number;
}
/** The limiter's store threw, answered with something that is not a decision, or was too slow; the call used a local bucket. */
export interface RateLimitStoreErrorEvent extends EventBase {
  readonly type: 'ratelimit.store_error';
  /** The limiter's key (a name written in code). */
  readonly limiter: string;
  readonly reason: 'error' | 'timeout';
  readonly error: unknown;
}

/** An extra hedged attempt started (attempt 2, 3, ...). */
export interface HedgeStartedEvent extends EventBase {
  readonly type: 'hedge.started';
  readonly attempt: number;
  /** How long the hedge waited before starting it: the delay, or 0 when a failure started it at once. */
  readonly delayMs: number;
  /** `delay`: the previous attempt was slow; `error`: an attempt failed and this one replaced it at once. */
  readonly trigger: 'delay' | 'error';
}
/** A hedged call succeeded. */
export interface HedgeWonEvent extends EventBase {
  readonly type: 'hedge.won';
  /** The attempt that won, from 1. */
  readonly attempt: number;
  /** Whether more than one attempt was started. */
  readonly hedged: boolean;
}

/** `chaos()` injected something; a call that is delayed and then failed reports twice. */
export interface ChaosInjectedEvent extends EventBase {
  readonly type: 'chaos.injected';
  /** What was injected: a thrown error, added latency, or a substituted result. */
  readonly fault: 'error' | 'latency' | 'result';
  /** The added latency, for `fault: 'latency'`. */
  readonly latencyMs?: number;
}

export type CacheResult = 'hit' | 'miss' | 'stale' | 'store_error';
export interface CacheEvent extends EventBase {
  readonly type: 'cache.request';
  /** The cache's namespace. */
  readonly cache: string;
  /** `store_error`: the store threw, answered garbage or was slower than `storeTimeoutMs`; the call ran as a miss. */
  readonly result: CacheResult;
  readonly error?: unknown;
  /** On a miss: true when the call joined an identical call already in flight instead of running the step. */
  readonly coalesced?: boolean;
}
/** Why a value was not stored: too big for `maxValueBytes`, not serialisable, or the store failed. */
export type CacheSetFailure = 'too_large' | 'unserializable' | 'store_error';
export interface CacheSetEvent extends EventBase {
  readonly type: 'cache.set';
  readonly cache: string;
  readonly ok: boolean;
  /** True when the stored outcome is an error (`cacheErrors`). */
  readonly isError?: boolean;
  readonly reason?: CacheSetFailure;
  /** Serialised size, when it was measured. */
  readonly bytes?: number;
  readonly error?: unknown;
}
/** A stale-while-revalidate background refresh finished; on failure the stale value stays. */
export interface CacheRefreshEvent extends EventBase { readonly type: 'cache.refresh'; readonly cache: string; readonly ok: boolean; readonly error?: unknown }

export interface RouteChosenEvent extends EventBase { readonly type: 'route.chosen'; readonly route: string; readonly reason: 'selector' | 'default' | 'weighted' | 'cost' }

export interface SagaFinishedEvent extends EventBase {
  readonly type: 'saga.finished';
  readonly saga: string;
  /** The execution's ID (as in the saga log); for logs, never a metric label. */
  readonly sagaId: string;
  readonly outcome: 'completed' | 'compensated' | 'compensation_failed';
  /** The error that made the saga compensate. */
  readonly error?: unknown;
  /** True when this instance took the execution over from one whose lease lapsed (a crash). */
  readonly recovered: boolean;
}
export interface SagaCompensatedEvent extends EventBase {
  readonly type: 'saga.compensation';
  readonly saga: string;
  /** The execution's ID (as in the saga log); for logs, never a metric label. */
  readonly sagaId: string;
  readonly compensatedStep: string;
  readonly outcome: Outcome;
  readonly error?: unknown;
}

/**
 * This instance took over an execution whose owner's lease lapsed (its process died): `resume`
 * goes on forward from the log (the same execution ID was run again), `compensate` undoes it.
 */
export interface SagaTakeoverEvent extends EventBase {
  readonly type: 'saga.takeover';
  readonly saga: string;
  /** The execution's ID (as in the saga log); for logs, never a metric label. */
  readonly sagaId: string;
  readonly direction: 'resume' | 'compensate';
}

/** A streaming step delivered its first chunk, `timeToFirstChunkMs` after it was called. */
export interface StreamFirstChunkEvent extends EventBase {
  readonly type: 'stream.first_chunk';
  readonly timeToFirstChunkMs: number;
  readonly attempt: number;
}
/**
 * A streaming step's stream ended: `completed`, `failed_before_first_chunk` (a retry or fallback
 * may still answer), `failed_mid_stream` (the consumer saw chunks, then an error) or `aborted`
 * (the consumer stopped reading, or a timeout or the caller aborted).
 */
export interface StreamFinishedEvent extends EventBase {
  readonly type: 'stream.finished';
  readonly outcome: 'completed' | 'failed_before_first_chunk' | 'failed_mid_stream' | 'aborted';
  readonly chunks: number;
  /** Tokens counted by the step's `tokens` option, when it has one. */
  readonly tokens?: number;
  readonly durationMs: number;
  readonly timeToFirstChunkMs?: number;
  readonly attempt: number;
  readonly error?: unknown;
}

/** A step recorded a cost (with `recordCost()` or through `cost()`). `model` is a price-table or code-given name, bounded for metric labels. */
export interface CostRecordedEvent extends EventBase { readonly type: 'cost.recorded'; readonly amount: number; readonly model?: string; readonly inputTokens?: number; readonly outputTokens?: number; readonly currency: string }
/**
 * A budget refused a call (`budget.exceeded`), crossed its warning share upwards (`budget.warning`),
 * or reports its spend after a call (`budget.usage`, for a gauge).
 */
export interface BudgetEvent extends EventBase {
  readonly type: 'budget.warning' | 'budget.exceeded' | 'budget.usage';
  /** The budget's name (a name written in code). */
  readonly budget: string;
  /** `run`: the per-run limit, against the run's ledger; `window`: the rolling-window limit, against the store. */
  readonly scope: 'run' | 'window';
  readonly spent: number;
  readonly limit: number;
  /** spent / limit */
  readonly utilisation: number;
  /** The share of the limit at which the budget warns (its `warnAt` option). */
  readonly warnAt: number;
  /**
   * For a budget kept per key (the `key` option): a short hash identifying the key's partition, so
   * telemetry can tell keys apart without the key itself. Never a metric label.
   */
  readonly partition?: string;
}
/** A budget's store threw, rejected, answered nonsense or timed out, while reserving before a call or charging after it. */
export interface BudgetStoreErrorEvent extends EventBase {
  readonly type: 'budget.store_error';
  /** The budget's name (a name written in code). */
  readonly budget: string;
  /** Whether the call was let through (only matters for `operation: 'reserve'`). */
  readonly failOpen: boolean;
  /** `reserve`: the check before the call; `charge`: settling the actual cost after it (never fails the call). */
  readonly operation: 'reserve' | 'charge';
  readonly reason: 'error' | 'timeout';
  readonly error: unknown;
  /**
   * For `operation: 'reserve'`, what became of the call: `open` (let through, `failOpen: true`),
   * `allowance` (admitted by the budget's process-local `localAllowance`) or `refused`.
   */
  readonly decision?: 'open' | 'allowance' | 'refused';
}

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
  | CacheRefreshEvent
  | RouteChosenEvent
  | SagaFinishedEvent
  | SagaCompensatedEvent
  | SagaTakeoverEvent
  | StreamFirstChunkEvent
  | StreamFinishedEvent
  | CostRecordedEvent
  | BudgetEvent
  | BudgetStoreErrorEvent;

/** The `type` of every event. */
export type WeftEventType = WeftEvent['type'];

/** The event whose `type` is T. */
export type EventOf<T extends WeftEventType> = Extract<WeftEvent, { type: T }>;

/** An event without the fields the emitter fills in from the context. */
export type EventPayload<E extends WeftEvent = WeftEvent> = E extends WeftEvent ? Omit<E, keyof EventBase> & Partial<Pick<EventBase, 'step' | 'primitive'>> : never;
