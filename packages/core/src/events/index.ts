import type { Observable } from 'rxjs';
import { filter } from 'rxjs';
import { Primitive } from '../primitive.js';
import { events } from './event-stream.js';
import type { WeftEvent } from './event-types.js';

declare module '../primitive.js' {
  // The type parameters must repeat Primitive's own names for the declarations to merge.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Primitive<in I, out O> {
    /**
     * Events of runs and steps that carry this primitive's name as workflow or step.
     * Added by `@weft/core/events`, which needs rxjs.
     *
     * @example
     * ```ts
     * import '@weft/core/events';
     * flow.events.subscribe((e) => console.log(e.type));
     * ```
     */
    readonly events: Observable<WeftEvent>;
  }
}

Object.defineProperty(Primitive.prototype, 'events', {
  get(this: Primitive<never, unknown>): Observable<WeftEvent> {
    const name = this.name;
    return events.pipe(filter((e) => e.workflow === name || e.step === name));
  },
  configurable: true,
});

export { events } from './event-stream.js';
export { onEvent, type OnEventOptions } from './on-event.js';
export type { Outcome, EventBase, RunStartedEvent, RunFinishedEvent, StepStartedEvent, StepFinishedEvent, CorrelationIdReplacedEvent, RetryAttemptEvent, RetryScheduledEvent, RetryGaveUpEvent, RetrySucceededEvent, TimeoutEvent, FallbackServedEvent, FallbackExhaustedEvent, CircuitState, CircuitStateChangedEvent, CircuitRejectedEvent, BulkheadRejectedEvent, BulkheadQueuedEvent, RateLimitedEvent, RateLimitWaitedEvent, RateLimitStoreErrorEvent, HedgeStartedEvent, HedgeWonEvent, ChaosInjectedEvent, CacheResult, CacheEvent, CacheSetEvent, CacheRefreshEvent, CacheSetFailure, RouteChosenEvent, SagaFinishedEvent, SagaCompensatedEvent, SagaTakeoverEvent, StreamFirstChunkEvent, StreamFinishedEvent, CostRecordedEvent, BudgetEvent, BudgetStoreErrorEvent, WeftEvent, WeftEventType, EventOf, EventPayload } from './event-types.js';
