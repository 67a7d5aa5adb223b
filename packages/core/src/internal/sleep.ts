import type { Scope } from './scope.js';
import { abortReasonError } from './ctx.js';
import { currentClock, unrefTimer, type Clock } from '../clock/clock.js';

/**
 * Sleeps `ms` on `clock` (the process default when absent), waking at once (with the abort reason)
 * when the scope aborts. The timer and the abort callback are both removed when it settles, so
 * nothing outlives it. With `unref`, the timer does not keep the process alive.
 */
export function sleep(ms: number, scope: Scope | undefined, clock: Clock = currentClock(), unref = false): Promise<void> {
  if (scope?.aborted) return Promise.reject(abortReasonError(scope.reason));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let off: (() => void) | undefined;
    const timer = clock.setTimeout(() => {
      off?.();
      resolve();
    }, ms);
    if (unref) unrefTimer(timer);
    if (scope) {
      off = scope.onAbort((reason) => {
        clock.clearTimeout(timer);
        reject(abortReasonError(reason));
      });
    }
  });
}
