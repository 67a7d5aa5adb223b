import { onEvent, type WeftEvent, type WeftEventType } from '@weft/core';

/** An event of type `T`. */
export type EventOfType<T extends WeftEventType> = Extract<WeftEvent, { type: T }>;

/** A recorder of Weft events; see {@link captureEvents}. */
export interface EventCapture {
  /** Every event so far, in order. */
  readonly events: readonly WeftEvent[];
  /** The events of one type, typed. */
  of<T extends WeftEventType>(type: T): Array<EventOfType<T>>;
  /** The events whose step is `step`. */
  forStep(step: string): WeftEvent[];
  /** The events a primitive of kind `primitive` emitted (`retry`, `circuit-breaker`, ...). */
  forPrimitive(primitive: string): WeftEvent[];
  /** The event types so far, in order: a compact thing to assert on. */
  types(): WeftEventType[];
  /**
   * Resolves with the first event (already seen, or to come) of `type` that `where` accepts;
   * rejects after `timeoutMs` of real time (default 5 s) so a test never hangs.
   */
  waitFor<T extends WeftEventType>(type: T, where?: (event: EventOfType<T>) => boolean, options?: { readonly timeoutMs?: number }): Promise<EventOfType<T>>;
  /** Forgets what was recorded. */
  clear(): void;
  /** Stops recording. */
  stop(): void;
  /** `stop()`, for `using events = captureEvents()`. */
  [Symbol.dispose](): void;
}

/**
 * Records every Weft event (through `onEvent`, so no rxjs is needed) until stopped.
 *
 * @example
 * ```ts
 * import { step } from '@weft/core';
 * import { captureEvents } from '@weft/testing';
 *
 * const events = captureEvents();
 * await step('greet', () => 'hi').run(undefined);
 * console.log(events.types()); // ['run.started', 'run.finished']
 * events.stop();
 * ```
 */
export function captureEvents(): EventCapture {
  const events: WeftEvent[] = [];
  const waiters = new Set<(event: WeftEvent) => void>();
  const off = onEvent((event) => {
    events.push(event);
    for (const w of [...waiters]) w(event);
  });
  const capture: EventCapture = {
    events,
    of: <T extends WeftEventType>(type: T) => events.filter((e): e is EventOfType<T> => e.type === type),
    forStep: (step) => events.filter((e) => e.step === step),
    forPrimitive: (primitive) => events.filter((e) => e.primitive === primitive),
    types: () => events.map((e) => e.type),
    waitFor: <T extends WeftEventType>(type: T, where?: (event: EventOfType<T>) => boolean, options?: { readonly timeoutMs?: number }) => {
      const matches = (e: WeftEvent): e is EventOfType<T> => e.type === type && (where === undefined || where(e as EventOfType<T>));
      const seen = events.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      const timeoutMs = options?.timeoutMs ?? 5_000;
      return new Promise<EventOfType<T>>((resolve, reject) => {
        const waiter = (e: WeftEvent): void => {
          if (!matches(e)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(e);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No ${type} event within ${timeoutMs} ms; saw: ${events.map((e) => e.type).join(', ') || 'none'}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    clear: () => {
      events.length = 0;
    },
    stop: () => {
      off();
      waiters.clear();
    },
    [Symbol.dispose]: () => capture.stop(),
  };
  return capture;
}
