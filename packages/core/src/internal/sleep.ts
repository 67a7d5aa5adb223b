import type { Scope } from './scope.js';
import { abortReasonError } from './ctx.js';

/**
 * Sleeps `ms`, waking at once (with the abort reason) when the scope aborts. The timer and the
 * abort callback are both removed when it settles, so nothing outlives it.
 */
export function sleep(ms: number, scope: Scope | undefined): Promise<void> {
  if (scope?.aborted) return Promise.reject(abortReasonError(scope.reason));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let off: (() => void) | undefined;
    const timer = setTimeout(() => {
      off?.();
      resolve();
    }, ms);
    if (scope) {
      off = scope.onAbort((reason) => {
        clearTimeout(timer);
        reject(abortReasonError(reason));
      });
    }
  });
}
