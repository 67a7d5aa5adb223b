import { checkClock, currentClock, unrefTimer, type Clock } from '../clock/clock.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { callHook } from '../internal/hooks.js';
import { Scope } from '../internal/scope.js';
import { fail, oneOf, optionalBoolean, optionalFunction, optionalNumber, optionsObject } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';

/**
 * What a timeout does when it fires:
 * - `aggressive`: abort the call's signal and reject at once with a `TimeoutError`, even if the
 *   function ignores its signal (it may then still be running; the event says so).
 * - `cooperative`: abort the call's signal and wait for the function to settle: a result that
 *   still arrives is returned, an error it throws is passed on. Use it when work that finishes
 *   late is still worth having, or must not be left running; the function must honour its signal.
 */
export type TimeoutMode = 'aggressive' | 'cooperative';

/** What {@link TimeoutOptions.onTimeout} is told. */
export interface TimeoutInfo {
  readonly step: string;
  /** The limit that fired, in ms: the configured one, or less when an outer deadline came first. */
  readonly timeoutMs: number;
  /** The configured limit, in ms. */
  readonly configuredMs: number;
  /** True when an outer deadline (the run's, an outer timeout's) was earlier than the configured limit. */
  readonly clampedByDeadline: boolean;
}

/**
 * Options for {@link timeout}.
 *
 * @example
 * ```ts
 * const options: TimeoutOptions = { ms: 2_000, mode: 'cooperative', onTimeout: (i) => log.warn(i) };
 * ```
 */
export interface TimeoutOptions {
  /** Milliseconds each call may take. Clamped to any outer deadline. */
  readonly ms: number;
  /** What happens when it fires; see {@link TimeoutMode}. @default 'aggressive' */
  readonly mode?: TimeoutMode;
  /** The clock whose timer bounds the call. @default the current clock (`useClock`) */
  readonly clock?: Clock;
  /** Unref the timer, so a pending timeout does not keep a CLI process alive. @default false */
  readonly unref?: boolean;
  /** Called when the limit fires, before the call settles; must not throw (a throw is swallowed). */
  readonly onTimeout?: (info: TimeoutInfo) => void;
}

const KNOWN = ['ms', 'mode', 'clock', 'unref', 'onTimeout'] as const;
const MODES: readonly TimeoutMode[] = ['aggressive', 'cooperative'];
const MAX_TIMER = 2_147_483_647;

/**
 * Bounds each call to `ms` milliseconds, and to whatever outer deadline is earlier. When it
 * fires, the call's signal aborts with a `TimeoutError` as its reason; in the default
 * `aggressive` mode the call rejects with it at once, even if the function ignores its signal (the
 * `timeout.expired` event then says the work may still be running); in `cooperative` mode it
 * waits for the function to settle. The error, the event and `onTimeout` report the limit that
 * actually fired: a 5 s timeout under a run with 50 ms left says 50 ms. The timer is cleared as
 * soon as the call settles.
 *
 * @example
 * ```ts
 * const bounded = timeout(fetchQuote, 2_000); // or fetchQuote.timeout({ ms: 2_000 })
 * const patient = fetchReport.timeout({ ms: 10_000, mode: 'cooperative' }); // keeps a late report
 * ```
 */
export function timeout<I, O>(primitive: Primitive<I, O>, options: number | TimeoutOptions): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  if (typeof options !== 'number' && (typeof options !== 'object' || options === null)) fail('options', 'a number of milliseconds or { ms }', options);
  const o = typeof options === 'number' ? { ms: options } : optionsObject('options', options, KNOWN, 'timeout');
  const ms = optionalNumber('ms', o.ms, { min: 0, max: MAX_TIMER });
  if (ms === undefined) fail('ms', 'a number >= 0', o.ms);
  const cooperative = oneOf('mode', o.mode, MODES, 'aggressive') === 'cooperative';
  const clockOption = checkClock('clock', o.clock);
  const unref = optionalBoolean('unref', o.unref) ?? false;
  const onTimeout = optionalFunction<(info: TimeoutInfo) => void>('onTimeout', o.onTimeout);
  const inner = primitive.exec;
  const name = primitive.name;

  const exec: Exec<I, O> = (input, ctx) => {
    const outer = ctx.scope;
    if (outer.aborted) return Promise.reject(abortReasonError(outer.reason));
    const clock = clockOption ?? currentClock();
    const now = clock.now();
    const own = now + ms;
    const clamped = ctx.deadline !== undefined && ctx.deadline < own;
    const deadline = clamped ? ctx.deadline : own;
    const limit = Math.max(0, deadline - now);
    const scope = new Scope(outer);
    return new Promise<O>((resolve, reject) => {
      let settled = false;
      let fired = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        fired = true;
        const error = new TimeoutError(
          limit,
          clamped ? `Timed out after ${limit} ms (an outer deadline; this step's own limit is ${ms} ms)` : `Timed out after ${limit} ms`,
        );
        callHook(onTimeout, { step: name, timeoutMs: limit, configuredMs: ms, clampedByDeadline: clamped });
        if (listening()) emit(ctx, 'timeout', { type: 'timeout.expired', step: name, timeoutMs: limit, configuredMs: ms, clampedByDeadline: clamped, mayStillBeRunning: !cooperative });
        scope.abort(error);
        if (cooperative) return; // wait for the function to settle
        settled = true;
        scope.dispose();
        reject(error);
      }, limit);
      if (unref) unrefTimer(timer);
      // An outer abort (caller, outer timeout, failed sibling) reaches this child scope and settles
      // us at once too. The scope's single handler slot costs no allocation on the success path.
      scope.handler = (reason) => {
        if (settled || fired) return;
        settled = true;
        clock.clearTimeout(timer);
        scope.dispose();
        reject(abortReasonError(reason));
      };
      let p: Promise<O>;
      try {
        p = inner(input, ctx.with({ scope, deadline }));
      } catch (error) {
        p = Promise.reject(toError(error));
      }
      p.then(
        (value) => {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          scope.dispose();
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          scope.dispose();
          reject(error);
        },
      );
    });
  };
  return new Primitive(name, 'timeout', exec);
}
