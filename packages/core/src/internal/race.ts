import type { Scope } from './scope.js';
import { abortReasonError } from './ctx.js';

/**
 * Settles with `promise`, or rejects with the abort reason as soon as `scope` aborts, whichever comes
 * first. Used where a caller must get control back promptly even if the work ignores its signal.
 * The abort callback is removed when the promise settles.
 */
export function raceAbort<T>(promise: Promise<T>, scope: Scope): Promise<T> {
  if (scope.aborted) {
    promise.catch(noop);
    return Promise.reject(abortReasonError(scope.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const off = scope.onAbort((reason) => reject(abortReasonError(reason)));
    promise.then(
      (value) => {
        off();
        resolve(value);
      },
      (error: unknown) => {
        off();
        reject(error);
      },
    );
  });
}

function noop(): void {}
