import type { WeftEvent, WeftEventType } from './event-types.js';
import { hub } from '../internal/event-hub.js';
import { fail, optionsObject } from '../internal/validate-options.js';

/** Options of {@link onEvent}. */
export interface OnEventOptions {
  /**
   * Only these event types reach the listener. Primitives do not even build events of a type that
   * no listener takes, so a listener that names what it records makes the rest free.
   * @default every type
   */
  readonly types?: readonly WeftEventType[];
}

const TYPE = /^[a-z_]+\.[a-z_]+$/;

/**
 * Calls `listener` with every event from every Weft primitive in this process (or those of
 * `options.types`), without rxjs. Returns the function that stops listening. A listener that throws
 * never breaks a run: the error is reported on `process.emitWarning`. For an rxjs Observable, use
 * `events` from `@weft/core/events`. Bad options throw a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import { onEvent } from '@weft/core';
 *
 * const stop = onEvent((e) => {
 *   if (e.type === 'retry.scheduled') console.log(e.step, e.delayMs);
 * });
 * const onlyFailures = onEvent((e) => console.log(e.type), { types: ['retry.gave_up', 'fallback.exhausted'] });
 * stop();
 * onlyFailures();
 * ```
 */
export function onEvent(listener: (event: WeftEvent) => void, options?: OnEventOptions): () => void {
  if (typeof listener !== 'function') throw new TypeError(`Expected \`listener\` to be a function, got ${typeof listener}`);
  if (options === undefined) return hub.add(listener);
  const o = optionsObject('options', options, ['types'], 'onEvent');
  const types = o.types;
  if (types === undefined) return hub.add(listener);
  if (!Array.isArray(types) || !types.every((t) => typeof t === 'string' && TYPE.test(t))) fail('types', "an array of event types such as 'retry.gave_up'", types);
  return hub.add(listener, types as readonly string[]);
}
