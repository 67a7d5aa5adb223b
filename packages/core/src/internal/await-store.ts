import { TimeoutError } from '../errors/timeout-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { currentClock, type Clock } from '../clock/clock.js';
import { abortReasonError } from './ctx.js';

/**
 * How a store call ended: its answer, or why there is none (`error`: it threw or rejected;
 * `timeout`: it did not answer in time, and `error` is a `TimeoutError`).
 */
export type StoreAnswer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: 'error' | 'timeout'; readonly error: Error };

/** What can end a wait early: a run's scope satisfies it; `onAbort` returns the unsubscribe function. */
export interface AbortWatch {
  onAbort(listener: (reason: unknown) => void): (() => void) | undefined;
}

/** Options of {@link awaitStore}. */
export interface AwaitStoreOptions<T> {
  /** The longest wait in milliseconds; 0 or less gives up at once (on the next timer tick). */
  readonly ms: number;
  /** What is waited for, for the timeout's message: "`what` did not answer within N ms". */
  readonly what: string;
  /** The caller's scope: when it aborts, the wait rejects at once with the abort reason. */
  readonly scope?: AbortWatch | undefined;
  /** Called with an answer that arrives after the wait ended (timed out or aborted), to undo what it did. */
  readonly late?: ((value: T) => void) | undefined;
  /** The clock whose timer bounds the wait. @default the current clock (`useClock`) */
  readonly clock?: Clock | undefined;
}

/**
 * Waits for a store's answer, bounded by a timeout and the caller's abort, and says how it ended.
 * A store failure (throw, rejection, timeout) resolves as `{ ok: false }`: the caller decides what
 * a failing store means (fail open, fail closed, a miss). Only an abort rejects, with the abort
 * reason. The timer and the abort listener are removed whichever way the wait ends; an answer
 * that comes later goes to `late`, and a late rejection is dropped.
 *
 * @example
 * ```ts
 * const answer = await awaitStore(store.get(key), { ms: 100, what: 'The cache store', scope: ctx.scope });
 * if (!answer.ok) return miss(answer.error);
 * ```
 */
export function awaitStore<T>(call: PromiseLike<T>, options: AwaitStoreOptions<T>): Promise<StoreAnswer<T>> {
  const { ms, what, scope, late } = options;
  const clock = options.clock ?? currentClock();
  return new Promise<StoreAnswer<T>>((resolve, reject) => {
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      clock.clearTimeout(timer);
      off?.();
      return true;
    };
    const wait = Math.max(0, ms);
    const timer = clock.setTimeout(() => {
      if (finish()) resolve({ ok: false, reason: 'timeout', error: new TimeoutError(wait, `${what} did not answer within ${Math.round(wait)} ms`) });
    }, wait);
    const off = scope?.onAbort((reason) => {
      if (finish()) reject(abortReasonError(reason));
    });
    call.then(
      (value) => {
        if (finish()) resolve({ ok: true, value });
        else late?.(value);
      },
      (error: unknown) => {
        if (finish()) resolve({ ok: false, reason: 'error', error: toError(error) });
      },
    );
  });
}
