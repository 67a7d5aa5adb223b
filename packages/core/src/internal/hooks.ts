import { reportSubscriberError } from './event-hub.js';

/**
 * Calls a per-instance hook (`onRetry`, `onBreak`, `onFallback`, ...) with what happened. Hooks
 * are telemetry: one that throws or returns a rejected promise never breaks the run; the error is
 * reported on `process.emitWarning`, like a throwing event subscriber.
 */
export function callHook<A>(hook: ((arg: A) => unknown) | undefined, arg: A): void {
  if (hook === undefined) return;
  try {
    const out = hook(arg);
    if (typeof out === 'object' && out !== null && typeof (out as PromiseLike<unknown>).then === 'function') {
      (out as PromiseLike<unknown>).then(undefined, reportSubscriberError);
    }
  } catch (error) {
    reportSubscriberError(error);
  }
}
