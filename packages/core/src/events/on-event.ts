import type { WeftEvent } from './event-types.js';
import { hub } from '../internal/event-hub.js';

/**
 * Calls `listener` with every event from every Weft primitive in this process, without rxjs.
 * Returns the function that stops listening. A listener that throws never breaks a run: the
 * error is reported on `process.emitWarning`. For an rxjs Observable, use `events` from
 * `@weft/core/events`.
 *
 * @example
 * ```ts
 * import { onEvent } from '@weft/core';
 *
 * const stop = onEvent((e) => {
 *   if (e.type === 'retry.scheduled') console.log(e.step, e.delayMs);
 * });
 * stop();
 * ```
 */
export function onEvent(listener: (event: WeftEvent) => void): () => void {
  if (typeof listener !== 'function') throw new TypeError(`Expected \`listener\` to be a function, got ${typeof listener}`);
  return hub.add(listener);
}
