import type { RunContext } from '../context/run-context.js';
import { ChaosError } from '../errors/chaos-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { sleep } from '../internal/sleep.js';
import { fail, optionalNumber, optionsObject } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import { seededRandom } from '../internal/seeded-random.js';

/** Injected failures: a share of calls throw instead of running. */
export interface ChaosFault<I = unknown> {
  /** Share of calls, 0..1, that fail. */
  readonly rate: number;
  /**
   * Makes the error to throw; gets the call's input and context.
   * @default () => new ChaosError()
   */
  readonly error?: (input: I, ctx: RunContext) => Error;
}

/** Injected latency: a share of calls wait before going on. */
export interface ChaosLatency {
  /** Share of calls, 0..1, that are delayed. */
  readonly rate: number;
  /** Milliseconds to wait: fixed, or drawn uniformly from `[min, max]`. */
  readonly ms: number | readonly [min: number, max: number];
}

/** Substituted results: a share of calls return this instead of running. */
export type ChaosResult<O, I = unknown> =
  | {
      /** Share of calls, 0..1, whose result is substituted. */
      readonly rate: number;
      /** The value to return. */
      readonly value: O;
      readonly factory?: never;
    }
  | {
      /** Share of calls, 0..1, whose result is substituted. */
      readonly rate: number;
      /** Makes the value to return; gets the call's input and context. */
      readonly factory: (input: I, ctx: RunContext) => O | Promise<O>;
      readonly value?: never;
    };

/**
 * Options for {@link chaos}. Give at least one of `fault`, `latency` and `result`.
 * `fault.rate + result.rate` must not exceed 1 (a call fails or is substituted, never both).
 */
export interface ChaosOptions<O = unknown, I = unknown> {
  /** Fail a share of calls. */
  readonly fault?: ChaosFault<I>;
  /** Delay a share of calls (independently of `fault` and `result`; a delayed call may then fail). */
  readonly latency?: ChaosLatency;
  /** Return a substitute for a share of calls without running the primitive. */
  readonly result?: ChaosResult<O, I>;
  /** Seed for the built-in PRNG, so runs are reproducible. Give `seed` or `random`, not both. */
  readonly seed?: number;
  /**
   * The random source, returning floats in [0, 1).
   * @default Math.random (or a seeded sfc32 when `seed` is given)
   */
  readonly random?: () => number;
  /**
   * Whether chaos is on: a boolean fixed at build time, or a function asked on every call (a
   * function that throws counts as off). The `WEFT_CHAOS` environment variable, read when the
   * primitive is built, takes precedence as a kill switch:
   * 1. `WEFT_CHAOS=0` (or `false`, `off`): off, whatever `enabled` says.
   * 2. `enabled` given: it decides.
   * 3. Otherwise on only when `WEFT_CHAOS=1` (or `true`, `on`).
   * @default off unless WEFT_CHAOS=1
   */
  readonly enabled?: boolean | ((ctx: RunContext) => boolean);
}

const DEFAULTS = {
  random: Math.random,
} satisfies Required<Pick<ChaosOptions, 'random'>>;

const FAULT_DEFAULTS = {
  error: () => new ChaosError(),
} satisfies Required<Pick<ChaosFault, 'error'>>;

/** The environment variable that switches chaos on (`1`) or kills it everywhere (`0`). */
export const CHAOS_ENV = 'WEFT_CHAOS';

const KNOWN = ['fault', 'latency', 'result', 'seed', 'random', 'enabled'] as const;
const MAX_DELAY = 2_147_483_647;
const PASS = 0;
const FAULT = 1;
const RESULT = 2;
type Outcome = typeof PASS | typeof FAULT | typeof RESULT;

/**
 * Injects faults, latency or substituted results into a primitive, at given rates, to test how a
 * workflow copes. Off by default, so it can ship in production code: switch it on with
 * `enabled: true` or `WEFT_CHAOS=1`, and kill it everywhere with `WEFT_CHAOS=0`. When off, the
 * returned primitive runs the inner one directly, at no cost per call.
 *
 * Per call, latency is drawn first (independently); the call then fails with probability
 * `fault.rate`, returns the substitute with probability `result.rate`, or runs the primitive.
 * Injected latency wakes at once when the run aborts. Emits `chaos.injected` (`fault`: `error`,
 * `latency` or `result`; `latencyMs` for latency) for each injection.
 *
 * @example
 * ```ts
 * const flaky = chaos(fetchQuote, {
 *   enabled: process.env.NODE_ENV !== 'production',
 *   seed: 42,
 *   fault: { rate: 0.1 },
 *   latency: { rate: 0.2, ms: [100, 500] },
 *   result: { rate: 0.05, value: { price: 0 } },
 * });
 * ```
 */
export function chaos<I, O>(primitive: Primitive<I, O>, options: ChaosOptions<O, I>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  if (options === undefined) fail('options', 'an options object', options);
  const o = optionsObject('options', options, KNOWN, 'chaos');

  // fault
  let faultRate = 0;
  let makeError: ((input: I, ctx: RunContext) => Error) | undefined;
  if (o.fault !== undefined) {
    const f = optionsObject('fault', o.fault);
    faultRate = rate('fault.rate', f.rate);
    if (f.error !== undefined && typeof f.error !== 'function') fail('fault.error', 'a function returning an Error', f.error);
    makeError = f.error as ((input: I, ctx: RunContext) => Error) | undefined;
  }

  // latency
  let latencyRate = 0;
  let minMs = 0;
  let spanMs = 0;
  if (o.latency !== undefined) {
    const l = optionsObject('latency', o.latency);
    latencyRate = rate('latency.rate', l.rate);
    const ms: unknown = l.ms;
    if (Array.isArray(ms)) {
      if (ms.length !== 2) fail('latency.ms', 'a number or a [min, max] pair', ms);
      const lo = optionalNumber('latency.ms[0]', ms[0], { min: 0, max: MAX_DELAY }) ?? fail('latency.ms[0]', 'a number >= 0', ms[0]);
      const hi = optionalNumber('latency.ms[1]', ms[1], { min: lo, max: MAX_DELAY }) ?? fail('latency.ms[1]', `a number >= ${lo}`, ms[1]);
      minMs = lo;
      spanMs = hi - lo;
    } else {
      minMs = optionalNumber('latency.ms', ms, { min: 0, max: MAX_DELAY }) ?? fail('latency.ms', 'a number >= 0 or a [min, max] pair', ms);
    }
  }

  // result
  let resultRate = 0;
  let hasResult = false;
  let resultValue: O | undefined;
  let resultFactory: ((input: I, ctx: RunContext) => O | Promise<O>) | undefined;
  if (o.result !== undefined) {
    const r = optionsObject('result', o.result);
    resultRate = rate('result.rate', r.rate);
    const hasValue = 'value' in r;
    if (hasValue && r.factory !== undefined) fail('result', 'an object with either `value` or `factory`, not both', Object.keys(r));
    if (!hasValue) {
      if (typeof r.factory !== 'function') fail('result.factory', 'a function (or give `result.value`)', r.factory);
      resultFactory = r.factory as (input: I, ctx: RunContext) => O | Promise<O>;
    } else resultValue = r.value as O;
    hasResult = true;
    if (faultRate + resultRate > 1) fail('result.rate', `a number <= ${1 - faultRate} (\`fault.rate\` + \`result.rate\` may not exceed 1)`, r.rate);
  }
  if (o.fault === undefined && o.latency === undefined && !hasResult) fail('options', 'an object with at least one of `fault`, `latency`, `result`', o);

  // random source
  if (o.seed !== undefined && o.random !== undefined) fail('random', 'left out when `seed` is given (use one of them)', o.random);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) fail('seed', 'a safe integer', o.seed);
  if (o.random !== undefined && typeof o.random !== 'function') fail('random', 'a function returning a number in [0, 1)', o.random);
  const random = o.seed !== undefined ? seededRandom(o.seed as number) : ((o.random as (() => number) | undefined) ?? DEFAULTS.random);

  // switch
  const enabled = o.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean' && typeof enabled !== 'function') fail('enabled', 'a boolean or a function', enabled);
  const env = readEnvSwitch();
  const inner = primitive.exec;
  const name = primitive.name;
  const off = env === false || enabled === false || (enabled === undefined && env !== true);
  if (off) return new Primitive(name, 'chaos', inner);
  const isOn = typeof enabled === 'function' ? (enabled as (ctx: RunContext) => boolean) : undefined;

  const injectOutcome = (input: I, ctx: Ctx, outcome: Outcome): Promise<O> => {
    if (ctx.scope.aborted) return Promise.reject(abortReasonError(ctx.scope.reason));
    if (outcome === FAULT) {
      if (listening()) emit(ctx, 'chaos', { type: 'chaos.injected', step: name, fault: 'error' });
      return Promise.reject(makeError === undefined ? FAULT_DEFAULTS.error() : callErrorFactory(makeError, input, ctx));
    }
    if (listening()) emit(ctx, 'chaos', { type: 'chaos.injected', step: name, fault: 'result' });
    if (resultFactory === undefined) return Promise.resolve(resultValue as O);
    try {
      return Promise.resolve(resultFactory(input, ctx));
    } catch (error) {
      return Promise.reject(toError(error));
    }
  };

  const exec: Exec<I, O> = (input, ctx) => {
    if (isOn !== undefined && !callSwitch(isOn, ctx)) return inner(input, ctx);
    let delayed = false;
    let ms = 0;
    if (latencyRate > 0 && random() < latencyRate) {
      delayed = true;
      ms = spanMs === 0 ? minMs : Math.round(minMs + spanMs * random());
    }
    let outcome: Outcome = PASS;
    if (faultRate > 0 || resultRate > 0) {
      const u = random();
      outcome = u < faultRate ? FAULT : u < faultRate + resultRate ? RESULT : PASS;
    }
    if (delayed) {
      if (listening()) emit(ctx, 'chaos', { type: 'chaos.injected', step: name, fault: 'latency', latencyMs: ms });
      return sleep(ms, ctx.scope).then(() => (outcome === PASS ? inner(input, ctx) : injectOutcome(input, ctx, outcome)));
    }
    return outcome === PASS ? inner(input, ctx) : injectOutcome(input, ctx, outcome);
  };
  return new Primitive(name, 'chaos', exec);
}

function rate(option: string, value: unknown): number {
  return optionalNumber(option, value, { min: 0, max: 1 }) ?? fail(option, 'a number >= 0 <= 1', value);
}

/**
 * Reads `WEFT_CHAOS`: true for `1`/`true`/`on`, false for `0`/`false`/`off`, undefined when unset
 * or empty. Anything else is a configuration mistake and throws, so it fails at start-up.
 */
function readEnvSwitch(): boolean | undefined {
  const raw = typeof process === 'undefined' ? undefined : process.env[CHAOS_ENV];
  if (raw === undefined) return undefined;
  switch (raw.trim().toLowerCase()) {
    case '':
      return undefined;
    case '1':
    case 'true':
    case 'on':
      return true;
    case '0':
    case 'false':
    case 'off':
      return false;
    default:
      return fail(CHAOS_ENV, 'one of "1", "true", "on", "0", "false", "off" or unset', raw);
  }
}

function callSwitch(fn: (ctx: RunContext) => boolean, ctx: Ctx): boolean {
  try {
    return fn(ctx) === true;
  } catch {
    return false; // a broken switch must never inject chaos
  }
}

function callErrorFactory<I>(fn: (input: I, ctx: RunContext) => Error, input: I, ctx: Ctx): Error {
  try {
    return toError(fn(input, ctx));
  } catch (thrown) {
    return toError(thrown);
  }
}
