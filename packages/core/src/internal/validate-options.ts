/**
 * Small validators for options, run once when a primitive is built. Each throws a TypeError naming
 * the option: ``Expected `retries` to be a non-negative integer, got -1``. Published to the other
 * Weft packages through `@weft/core/options` (see `../options.ts`).
 */
/** How a value is printed in an error message: NaN, Infinity and bigints as themselves, strings quoted. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  // JSON would print NaN and Infinity as null.
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Throws the TypeError every validator throws: ``Expected `<option>` to be <expected>, got <value>``.
 *
 * @example
 * ```ts
 * if (typeof o.key !== 'function') fail('key', 'a function', o.key);
 * ```
 */
export function fail(option: string, expected: string, value: unknown): never {
  throw new TypeError(`Expected \`${option}\` to be ${expected}, got ${show(value)}`);
}

/** Bounds for {@link optionalNumber} and {@link number}. */
export interface NumberRule {
  /** Smallest allowed value. @default -Infinity */
  readonly min?: number;
  /** Largest allowed value. @default Infinity */
  readonly max?: number;
  /** Whether the value must be an integer. @default false */
  readonly integer?: boolean;
  /** Whether Infinity is refused. @default true */
  readonly finite?: boolean;
}

/**
 * Checks an optional number option: undefined passes through; NaN, a non-number, Infinity (unless
 * `finite: false`), a fraction (with `integer: true`) or a value out of `[min, max]` throws.
 *
 * @example
 * ```ts
 * const limit = optionalNumber('limit', o.limit, { min: 1, integer: true }); // number | undefined
 * ```
 */
export function optionalNumber(option: string, value: unknown, { min = -Infinity, max = Infinity, integer = false, finite = true }: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  const desc = `${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`;
  if (typeof value !== 'number' || Number.isNaN(value)) fail(option, desc, value);
  if (finite && !Number.isFinite(value)) fail(option, `a finite ${desc.replace(/^an? /, '')}`, value);
  if (integer && !Number.isInteger(value) && Number.isFinite(value)) fail(option, desc, value);
  if (value < min || value > max) fail(option, desc, value);
  return value;
}

/**
 * Checks a number option like {@link optionalNumber}, returning `defaults` when it is undefined.
 *
 * @example
 * ```ts
 * const retries = number('retries', o.retries, 3, { min: 0, integer: true });
 * ```
 */
export function number(option: string, value: unknown, defaults: number, opts: NumberRule = {}): number {
  return optionalNumber(option, value, opts) ?? defaults;
}

/**
 * Checks an optional function option.
 *
 * @example
 * ```ts
 * const onError = optionalFunction<(error: unknown) => void>('onError', o.onError);
 * ```
 */
export function optionalFunction<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as F;
}

/**
 * Checks an optional boolean option.
 *
 * @example
 * ```ts
 * const exemplars = optionalBoolean('exemplars', o.exemplars); // boolean | undefined
 * ```
 */
export function optionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(option, 'a boolean', value);
  return value;
}

/**
 * Checks a boolean option, returning `defaults` when it is undefined.
 *
 * @example
 * ```ts
 * const withSpan = boolean('span', o.span, true);
 * ```
 */
export function boolean(option: string, value: unknown, defaults: boolean): boolean {
  return optionalBoolean(option, value) ?? defaults;
}

/**
 * Checks that an option is one of `allowed`, returning `defaults` when it is undefined.
 *
 * @example
 * ```ts
 * const mode = oneOf('mode', o.mode, ['fail-open', 'fail-closed'] as const, 'fail-closed');
 * ```
 */
export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], defaults: T): T {
  if (value === undefined) return defaults;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(option, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  return value as T;
}

/**
 * Checks that options are a plain object (undefined reads as `{}`), so its fields can be validated.
 * With `known`, a key outside it throws (see {@link knownOptions}, which names `owner`), so a typo
 * never passes silently.
 *
 * @example
 * ```ts
 * const o = optionsObject('options', options, ['maxConcurrent', 'maxQueue'], 'bulkhead');
 * ```
 */
export function optionsObject(option: string, value: unknown, known?: readonly string[], owner: string = option): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(option, 'an options object', value);
  const o = value as Record<string, unknown>;
  if (known !== undefined) knownOptions(owner, o, known);
  return o;
}

/**
 * Rejects keys an options object does not know, so a typo does not pass silently. Every Weft
 * primitive and store throws this one message shape:
 * ``Unknown bulkhead option `maxQeue` (did you mean `maxQueue`?); known options: maxConcurrent, maxQueue``.
 *
 * @example
 * ```ts
 * knownOptions('RedisCacheStore', o, ['maxTtlMs']);
 * ```
 */
export function knownOptions(owner: string, o: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const near = closest(k, known);
    throw new TypeError(`Unknown ${owner} option \`${k}\`${near ? ` (did you mean \`${near}\`?)` : ''}; known options: ${known.join(', ')}`);
  }
}

/** The known name nearest to a misspelt one (case-insensitive edit distance at most 2, or a case-only difference). */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const a = name.toLowerCase();
  for (const candidate of known) {
    const d = editDistance(a, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;

/**
 * Checks a name written in code (a primitive, store, breaker or saga name): 1-100 characters from
 * `[A-Za-z0-9_.:-]`, starting with a letter or underscore. Names become span names and metric
 * labels, so they must stay short identifiers.
 *
 * @example
 * ```ts
 * const name = primitiveName('name', o.name);
 * ```
 */
export function primitiveName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) fail(option, 'a name of 1-100 characters from [A-Za-z0-9_.:-] starting with a letter or underscore', value);
  return value;
}

/** @internal `value`'s properties, to check an object option's shape; undefined when it is not an object. */
export function shapeOf<T>(value: unknown): Partial<T> | undefined {
  return typeof value === 'object' && value !== null ? value : undefined;
}
