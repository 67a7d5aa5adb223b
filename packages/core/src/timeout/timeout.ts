import { TimeoutError } from '../errors/timeout-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { Scope } from '../internal/scope.js';
import { fail, optionalNumber } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';

/** Options for {@link timeout}. */
export interface TimeoutOptions {
  /** Milliseconds each call may take. Clamped to any outer deadline. */
  readonly ms: number;
}

/**
 * Bounds each call to `ms` milliseconds, and to whatever outer deadline is earlier.
 * When it expires, the inner signal aborts with a `TimeoutError` as its reason, and the call
 * rejects with that `TimeoutError` at once, even if the function ignores its signal (the
 * `timeout.expired` event then says the work may still be running). The timer is cleared as soon
 * as the call settles.
 *
 * @example
 * ```ts
 * const bounded = timeout(fetchQuote, 2_000); // or fetchQuote.timeout({ ms: 2_000 })
 * ```
 */
export function timeout<I, O>(primitive: Primitive<I, O>, options: number | TimeoutOptions): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const raw = typeof options === 'number' ? options : typeof options === 'object' && options !== null ? options.ms : fail('options', 'a number of milliseconds or { ms }', options);
  const ms = optionalNumber('ms', raw, { min: 0, max: 2_147_483_647 });
  if (ms === undefined) fail('ms', 'a number >= 0', raw);
  const inner = primitive.exec;
  const name = primitive.name;

  const exec: Exec<I, O> = (input, ctx) => {
    const outer = ctx.scope;
    if (outer.aborted) return Promise.reject(abortReasonError(outer.reason));
    const now = Date.now();
    const own = now + ms;
    const deadline = ctx.deadline !== undefined && ctx.deadline < own ? ctx.deadline : own;
    const scope = new Scope(outer);
    return new Promise<O>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        const error = new TimeoutError(ms);
        scope.abort(error);
        scope.dispose();
        if (listening()) emit(ctx, 'timeout', { type: 'timeout.expired', step: name, timeoutMs: ms, mayStillBeRunning: true });
        reject(error);
      }, Math.max(0, deadline - now));
      // An outer abort (caller, outer timeout, failed sibling) reaches this child scope and settles
      // us at once too. The scope's single handler slot costs no allocation on the success path.
      scope.handler = (reason) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
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
          clearTimeout(timer);
          scope.dispose();
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          scope.dispose();
          reject(error);
        },
      );
    });
  };
  return new Primitive(name, 'timeout', exec);
}
