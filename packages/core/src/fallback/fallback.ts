import type { RunContext } from '../context/run-context.js';
import { FallbackError } from '../errors/fallback-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { storage, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { callHook } from '../internal/hooks.js';
import { fail, optionalFunction, optionsObject } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';

/**
 * A fallback written as a function. It gets the original input, the error that led to it (the
 * previous alternative's, or the primary's), and the run's context.
 *
 * @example
 * ```ts
 * const cached: FallbackFn<string, Quote> = (symbol, error, ctx) => cache.get(symbol) ?? Promise.reject(error);
 * ```
 */
export type FallbackFn<I, O> = (input: I, error: Error, ctx: RunContext) => O | Promise<O>;

/**
 * One alternative in a fallback chain: a primitive (which gets the original input, like the
 * primary) or a {@link FallbackFn} (which also gets the error that led to it).
 *
 * @example
 * ```ts
 * const alternatives: FallbackAlternative<string, Quote>[] = [fromMirror, (symbol, error) => staleQuote(symbol, error)];
 * ```
 */
export type FallbackAlternative<I, O> = Primitive<I, O> | FallbackFn<I, O>;

/**
 * Options for {@link fallback}, passed as the last argument.
 *
 * @example
 * ```ts
 * fetchQuote.fallback(fromMirror, { when: (error) => !isValidationError(error) });
 * ```
 */
/** What {@link FallbackOptions.onFallback} is told before an alternative is tried. */
export interface FallbackInfo {
  readonly step: string;
  /** The alternative about to be tried: 1 for the first. */
  readonly index: number;
  /** Its name. */
  readonly alternative: string;
  /** The failure that led to it. */
  readonly error: Error;
}

export interface FallbackOptions<O = unknown> {
  /**
   * Which errors to fall back on. It sees every error in the chain (the primary's and each
   * alternative's); an error it rejects propagates at once, as it is. An abort of the caller
   * never falls back, whatever this says.
   * @default every error
   */
  readonly when?: (error: Error, ctx: RunContext) => boolean;
  /**
   * Whether a successful result counts as a failure (a 200 with a degraded body): the next
   * alternative is tried, with an error saying so. Applies to the primary and every alternative;
   * when the last one's result fails too, the call rejects with a `FallbackError`.
   * @default undefined (every result serves)
   */
  fallbackIf?(result: O): boolean;
  /** Called before each alternative is tried; must not throw (a throw is swallowed). */
  readonly onFallback?: (info: FallbackInfo) => void;
}

/**
 * The arguments of {@link fallback} after the primary: one or more alternatives, in order,
 * optionally followed by {@link FallbackOptions}.
 *
 * @example
 * ```ts
 * const args: FallbackArgs<string, Quote> = [fromMirror, () => DEFAULT_QUOTE, { when: isTransient }];
 * ```
 */
export type FallbackArgs<I, O> =
  | [FallbackAlternative<I, O>, ...Array<FallbackAlternative<I, O>>]
  | [FallbackAlternative<I, O>, ...Array<FallbackAlternative<I, O>>, FallbackOptions<O>];

const DEFAULTS = {
  when: () => true,
} satisfies Partial<FallbackOptions>;

const KNOWN = ['when', 'fallbackIf', 'onFallback'] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;

type Runner<I, O> = (input: I, error: Error, ctx: Ctx) => Promise<O>;

/**
 * Tries `alternatives` in order when `primitive` fails: the first one that succeeds serves the
 * call. Every alternative gets the original input; a function alternative also gets the error that
 * led to it. Errors that `when` rejects propagate at once, and an abort of the caller (its scope
 * aborted) never falls back. When every alternative fails, the call rejects with a
 * `FallbackError` whose `errors` hold every cause in order, primary first.
 *
 * Events: `fallback.served` when an alternative (index 1, 2, ...) served the call; it is not
 * emitted when the primary serves, so counting these events counts fallbacks, by the alternative
 * that served (`index` and `served`, its name). `fallback.exhausted` when every one failed.
 *
 * @example
 * ```ts
 * const quote = fallback(fetchQuote, fetchQuoteFromMirror, (symbol, error) => ({ symbol, price: null, stale: true, reason: error.message }));
 * // or fetchQuote.fallback(fetchQuoteFromMirror, { when: (e) => !isValidationError(e) })
 * ```
 */
export function fallback<I, O>(primitive: Primitive<I, O>, ...args: FallbackArgs<I, O>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const list: unknown[] = args;
  let when: (error: Error, ctx: RunContext) => boolean = DEFAULTS.when;
  let fallbackIf: ((result: O) => boolean) | undefined;
  let onFallback: ((info: FallbackInfo) => void) | undefined;
  let count = list.length;
  const last = list[count - 1];
  if (count > 0 && typeof last === 'object' && last !== null && !(last instanceof Primitive)) {
    if (Array.isArray(last)) fail(`alternatives[${count - 1}]`, 'a primitive, a function or a FallbackOptions object', last);
    const o = optionsObject('options', last, KNOWN, 'fallback');
    when = optionalFunction<typeof when>('when', o.when) ?? DEFAULTS.when;
    fallbackIf = optionalFunction<(result: O) => boolean>('fallbackIf', o.fallbackIf);
    onFallback = optionalFunction<(info: FallbackInfo) => void>('onFallback', o.onFallback);
    count--;
  }
  if (count === 0) fail('alternatives', 'at least one primitive or function', list);

  const name = primitive.name;
  const primary = primitive.exec;
  const runners: Array<Runner<I, O>> = [];
  // names[0] is the primary, names[i] alternative i, as the event reports them.
  const names: string[] = [name];
  for (let i = 0; i < count; i++) {
    const alt = list[i];
    if (alt instanceof Primitive) {
      runners.push(fromPrimitive(alt.exec as Exec<I, O>));
      names.push(alt.name);
    } else if (typeof alt === 'function') {
      const altName = alt.name && NAME.test(alt.name) ? alt.name : `alternative-${i + 1}`;
      runners.push(fromFunction(alt as FallbackFn<I, O>, altName));
      names.push(altName);
    } else {
      fail(`alternatives[${i}]`, 'a primitive or a function (input, error, ctx) => output', alt);
    }
  }

  // Handles the failure of the primary (i = 1) or of alternative i - 1: runs alternative i or gives up.
  const next = (thrown: unknown, i: number, errors: Error[] | undefined, input: I, ctx: Ctx): Promise<O> => {
    const error = toError(thrown);
    if (ctx.scope.aborted || !when(error, ctx)) throw error;
    const errs = errors ?? [];
    errs.push(error);
    if (i > count) {
      if (listening()) emit(ctx, 'fallback', { type: 'fallback.exhausted', errors: errs, step: name });
      throw new FallbackError(errs);
    }
    callHook(onFallback, { step: name, index: i, alternative: names[i]!, error });
    let p: Promise<O>;
    try {
      p = runners[i - 1]!(input, error, ctx);
    } catch (e) {
      p = Promise.reject(toError(e));
    }
    if (fallbackIf !== undefined) p = p.then((value) => judge(fallbackIf, value));
    const onError = (e: unknown): Promise<O> => next(e, i + 1, errs, input, ctx);
    if (!listening()) return p.then(undefined, onError);
    return p.then((value) => {
      if (listening()) emit(ctx, 'fallback', { type: 'fallback.served', index: i, served: names[i]!, errors: errs, step: name });
      return value;
    }, onError);
  };

  const exec: Exec<I, O> = (input, ctx) => {
    let p: Promise<O>;
    try {
      p = primary(input, ctx);
    } catch (error) {
      p = Promise.reject(toError(error));
    }
    if (fallbackIf !== undefined) p = p.then((value) => judge(fallbackIf, value));
    return p.then(undefined, (error: unknown) => next(error, 1, undefined, input, ctx));
  };
  return new Primitive(name, 'fallback', exec);
}

/** Passes `value` through, or throws when `fallbackIf` counts it as a failure (a throwing judge counts it too). */
function judge<O>(fallbackIf: (result: O) => boolean, value: O): O {
  let failed: boolean;
  try {
    failed = fallbackIf(value) === true;
  } catch (error) {
    throw toError(error);
  }
  if (failed) throw new Error('The result counted as a failure (fallbackIf)');
  return value;
}

function fromPrimitive<I, O>(exec: Exec<I, O>): Runner<I, O> {
  return (input, _error, ctx) => exec(input, ctx);
}

function fromFunction<I, O>(fn: FallbackFn<I, O>, name: string): Runner<I, O> {
  return (input, error, ctx) => {
    // The function sees itself as the current step, through its ctx and currentContext().
    const c = ctx.step === name ? ctx : ctx.with({ step: name });
    return Promise.resolve(storage.run(c, fn, input, error, c));
  };
}
