import { currentClock, step, type Primitive } from '@weft/core';

/**
 * One entry of a {@link scriptedStep}'s script. Each call takes the next entry (the last one
 * repeats): it waits `delayMs` (on the Weft clock, so a test clock moves it), then fails with
 * `fail`, hangs until aborted (`hang`), or returns `return`. `times` repeats the entry.
 */
export interface ScriptEntry<O> {
  /** Throw this (a string becomes an `Error` with that message). */
  readonly fail?: Error | string;
  /** Resolve with this. */
  readonly return?: O;
  /** Wait this long first, in ms; an abort ends the wait with the abort reason. */
  readonly delayMs?: number;
  /** Never settle on its own: reject with the abort reason when the call's signal aborts. */
  readonly hang?: true;
  /** How many calls this entry serves. @default 1 */
  readonly times?: number;
}

/** What a {@link scriptedStep} saw of one call. */
export interface ScriptedCall<I> {
  readonly input: I;
  /** `ctx.attempt` of the call (retries count up). */
  readonly attempt: number;
  /** The call's AbortSignal. */
  readonly signal: AbortSignal;
  /** Whether the call's signal was aborted (read now: it follows the signal). */
  readonly aborted: boolean;
  /** The Weft clock's time when the call started. */
  readonly startedAt: number;
}

/** A scripted step and the calls it received. */
export interface ScriptedStep<I, O> {
  /** The step: chain it like any other (`.retry()`, `.timeout()`, ...). */
  readonly step: Primitive<I, O>;
  /** Every call so far, in order. */
  readonly calls: ReadonlyArray<ScriptedCall<I>>;
}

/**
 * A step whose behaviour is a script: fail N times then succeed, hang until aborted, answer after
 * a delay, return given values; with the calls it received (inputs, attempts, signals, aborts).
 *
 * @example
 * ```ts
 * import { scriptedStep } from '@weft/testing';
 *
 * const pay = scriptedStep<string, string>('pay', [{ fail: 'card service busy', times: 2 }, { return: 'paid' }]);
 * const result = await pay.step.retry({ retries: 2, minDelay: 0 }).run('order-1');
 * console.log(result, pay.calls.map((c) => c.attempt)); // 'paid' [1, 2, 3]
 * ```
 */
export function scriptedStep<I = unknown, O = unknown>(name: string, script: ReadonlyArray<ScriptEntry<O>>): ScriptedStep<I, O> {
  if (!Array.isArray(script) || script.length === 0) throw new TypeError('Expected `script` to be a non-empty array of entries');
  const entries: ScriptEntry<O>[] = [];
  for (const [i, entry] of (script as ReadonlyArray<unknown>).entries()) {
    if (typeof entry !== 'object' || entry === null) throw new TypeError(`Expected \`script[${i}]\` to be an entry object`);
    const e = entry as ScriptEntry<O>;
    const times = e.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new TypeError(`Expected \`script[${i}].times\` to be an integer >= 1, got ${String(e.times)}`);
    for (let n = 0; n < times; n++) entries.push(e);
  }
  const calls: Array<ScriptedCall<I>> = [];
  const s = step(name, (input: I, ctx) => {
    const entry = entries[Math.min(calls.length, entries.length - 1)]!;
    const signal = ctx.signal;
    const clock = currentClock();
    calls.push({
      input,
      attempt: ctx.attempt,
      signal,
      get aborted() {
        return signal.aborted;
      },
      startedAt: clock.now(),
    });
    return new Promise<O>((resolve, reject) => {
      const act = (): void => {
        if (entry.hang === true) {
          signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
          return;
        }
        if (entry.fail !== undefined) reject(typeof entry.fail === 'string' ? new Error(entry.fail) : entry.fail);
        else resolve(entry.return as O);
      };
      if (signal.aborted) return reject(abortError(signal));
      const ms = entry.delayMs ?? 0;
      if (ms <= 0) return act();
      const timer = clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        act();
      }, ms);
      const onAbort = (): void => {
        clock.clearTimeout(timer);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  });
  return { step: s, calls };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
