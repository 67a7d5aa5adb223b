import { definePrimitive, isAbortedError, Primitive, toError } from '@weft/core';
import { fail, knownOptions, number, optionalFunction, optionsObject, primitiveName as checkName } from '@weft/core/options';
import { MAX_TIMER } from '../internal/timers.js';
import type { DeadLetterCapture, DeadLetterEntry, DeadLetterStore } from './dead-letter-store.js';

/**
 * Options for {@link deadLetter}.
 *
 * @example
 * ```ts
 * const options: DeadLetterOptions = { name: 'charge', ttlMs: 7 * 86_400_000, when: (e) => !isValidationError(e) };
 * ```
 */
export interface DeadLetterOptions {
  /** The dead-letter queue's name: a short identifier. */
  readonly name: string;
  /** How long each entry is kept. */
  readonly ttlMs: number;
  /**
   * Which failures to capture.
   * @default every failure except an abort (the caller gave up; the work did not fail)
   */
  readonly when?: (error: Error) => boolean;
  /**
   * Called when a failure could not be stored (Redis down, input not serialisable), with the
   * capture that was lost and why. The run still rejects with its own error.
   * @default process.emitWarning with the queue, correlation ID and reason
   */
  readonly onCaptureError?: (error: Error, capture: DeadLetterCapture) => void;
  /**
   * Called with each stored entry, e.g. to log its ID next to the failure.
   * @default undefined
   */
  readonly onCaptured?: (entry: DeadLetterEntry) => void;
}

const DEFAULTS = {
  when: (error: Error) => !isAbortedError(error),
  onCaptureError: (error: Error, capture: DeadLetterCapture) => {
    process.emitWarning(`Dead letter for queue "${capture.queue}" (correlation ID ${capture.correlationId}) was not stored: ${error.message}`, { code: 'WEFT_DEAD_LETTER_LOST' });
  },
} as const satisfies Required<Pick<DeadLetterOptions, 'when' | 'onCaptureError'>>;

const KNOWN = ['name', 'ttlMs', 'when', 'onCaptureError', 'onCaptured'] as const;

/**
 * Captures the final failure of `primitive` in a dead-letter store (its input, the error's name,
 * message and code, the correlation ID and the time), then rethrows it unchanged. Wrap the
 * outermost policy (after `retry()`), so only runs that failed for good are captured. List the
 * queue with `store.list(name)` and replay an entry with `store.replay(entry, primitive)` once
 * the fault is fixed.
 *
 * Nothing is lost silently: the run's rejection waits (bounded by the store's timeouts) until the
 * entry is stored, and a capture that cannot be stored goes to `onCaptureError` (a process
 * warning by default) before the original error is rethrown.
 *
 * @example
 * ```ts
 * const dlq = new RedisDeadLetterStore(redis);
 * const charge = deadLetter(chargeCard.retry({ retries: 3 }), dlq, { name: 'charge', ttlMs: 7 * 86_400_000 });
 * // later, after the fix:
 * for (const entry of await dlq.list('charge')) await dlq.replay(entry, charge);
 * ```
 */
export function deadLetter<I, O>(primitive: Primitive<I, O>, store: DeadLetterStore, options: DeadLetterOptions): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const s = store as Partial<DeadLetterStore> | null;
  if (typeof s !== 'object' || s === null || typeof s.add !== 'function' || typeof s.list !== 'function' || typeof s.replay !== 'function') fail('store', 'a DeadLetterStore (add, list, get, remove, replay)', store);
  if (typeof options !== 'object' || options === null) fail('options', 'an options object with `name` and `ttlMs`', options);
  const o = optionsObject('options', options);
  knownOptions('deadLetter', o, KNOWN);
  const queue = checkName('name', o.name);
  const ttlMs = number('ttlMs', o.ttlMs, NaN, { min: 1, max: MAX_TIMER * 1000, integer: true });
  if (Number.isNaN(ttlMs)) fail('ttlMs', 'an integer >= 1', o.ttlMs);
  const when = optionalFunction<(error: Error) => boolean>('when', o.when) ?? DEFAULTS.when;
  const onCaptureError = optionalFunction<(error: Error, capture: DeadLetterCapture) => void>('onCaptureError', o.onCaptureError) ?? DEFAULTS.onCaptureError;
  const onCaptured = optionalFunction<(entry: DeadLetterEntry) => void>('onCaptured', o.onCaptured);
  const inner = primitive.exec;

  const capture = (error: Error, input: I, correlationId: string, workflow: string): Promise<never> => {
    let wanted: boolean;
    try {
      wanted = when(error) === true;
    } catch {
      wanted = true; // a broken predicate must not lose a failure
    }
    if (!wanted) return Promise.reject(error);
    const code = (error as Error & { code?: unknown }).code;
    const c: DeadLetterCapture<I> = {
      queue,
      input,
      error: typeof code === 'string' || typeof code === 'number' ? { name: error.name, message: error.message, code } : { name: error.name, message: error.message },
      correlationId,
      workflow,
      failedAt: Date.now(),
    };
    let stored: Promise<DeadLetterEntry<I>>;
    try {
      stored = store.add(c, ttlMs);
    } catch (e) {
      stored = Promise.reject(toError(e));
    }
    return stored.then(
      (entry) => {
        if (onCaptured !== undefined) {
          try {
            onCaptured(entry);
          } catch {
            // a hook never changes the run's outcome
          }
        }
        throw error;
      },
      (e: unknown) => {
        try {
          onCaptureError(toError(e), c);
        } catch {
          // a hook never changes the run's outcome
        }
        throw error;
      },
    );
  };

  return definePrimitive(primitive.name, 'deadletter', (input, ctx) => {
    let p: Promise<O>;
    try {
      p = inner(input, ctx);
    } catch (error) {
      p = Promise.reject(toError(error));
    }
    return p.then(undefined, (thrown: unknown) => capture(toError(thrown), input, ctx.correlationId, ctx.workflow));
  });
}
