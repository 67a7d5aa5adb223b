import { Observable, Subscriber, type Operator, type Observer, type Subscription } from 'rxjs';
import type { WeftEvent } from './event-types.js';
import { hub, reportSubscriberError } from '../internal/event-hub.js';

/**
 * An Observable whose subscribers can never throw into the emitter, even through `.pipe(...)`:
 * errors from a subscriber's `next` are caught and reported on `process.emitWarning` instead of
 * rxjs's default (a rethrow on a timer, which would crash the process).
 */
class EventStream<T> extends Observable<T> {
  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const next = new EventStream<R>();
    (next as unknown as { source: Observable<T> }).source = this;
    (next as unknown as { operator: Operator<T, R> | undefined }).operator = operator;
    return next;
  }

  override subscribe(observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null): Subscription {
    if (observerOrNext == null) return super.subscribe();
    // Inner links of a pipe() chain are Subscribers: pass them through so teardown stays chained.
    if (observerOrNext instanceof Subscriber) return super.subscribe(observerOrNext);
    // An operator in a pipe() that throws becomes an error notification; with no error handler rxjs
    // would rethrow it on a timer and crash the process, so report it instead.
    if (typeof observerOrNext === 'function') return super.subscribe({ next: guard(observerOrNext), error: reportSubscriberError });
    const o = observerOrNext;
    return super.subscribe({
      next: o.next ? guard(o.next.bind(o)) : undefined,
      error: o.error ? guard(o.error.bind(o)) : () => {},
      complete: o.complete ? guard(o.complete.bind(o)) : undefined,
    } as Partial<Observer<T>>);
  }
}

function guard<A>(fn: (value: A) => void): (value: A) => void {
  return (value) => {
    try {
      fn(value);
    } catch (error) {
      reportSubscriberError(error);
    }
  };
}

/**
 * Every event from every Weft primitive in this process, as an rxjs Observable.
 * Subscribing is optional and free when nobody listens; a subscriber that throws never breaks a run.
 *
 * @example
 * ```ts
 * import { events } from '@weft/core/events';
 * import { filter } from 'rxjs';
 * events.pipe(filter((e) => e.type === 'retry.scheduled')).subscribe((e) => console.log(e));
 * ```
 */
export const events: Observable<WeftEvent> = new EventStream<WeftEvent>((subscriber: Subscriber<WeftEvent>) => hub.add((event) => subscriber.next(event)));
