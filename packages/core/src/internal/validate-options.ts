/**
 * Small validators for options, run once when a primitive is built. Each throws a TypeError naming
 * the option: ``Expected `retries` to be a non-negative integer, got -1``.
 */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function fail(option: string, expected: string, value: unknown): never {
  throw new TypeError(`Expected \`${option}\` to be ${expected}, got ${show(value)}`);
}

export function optionalNumber(option: string, value: unknown, { min = -Infinity, max = Infinity, integer = false, finite = true } = {}): number | undefined {
  if (value === undefined) return undefined;
  const desc = `${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`;
  if (typeof value !== 'number' || Number.isNaN(value)) fail(option, desc, value);
  if (finite && !Number.isFinite(value)) fail(option, `a finite ${desc.replace(/^an? /, '')}`, value);
  if (integer && !Number.isInteger(value) && Number.isFinite(value)) fail(option, desc, value);
  if (value < min || value > max) fail(option, desc, value);
  return value;
}

export function number(option: string, value: unknown, defaults: number, opts: { min?: number; max?: number; integer?: boolean; finite?: boolean } = {}): number {
  return optionalNumber(option, value, opts) ?? defaults;
}

export function optionalFunction<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as F;
}

export function optionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(option, 'a boolean', value);
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], defaults: T): T {
  if (value === undefined) return defaults;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(option, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  return value as T;
}

export function optionsObject(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(option, 'an options object', value);
  return value as Record<string, unknown>;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;

/** Names become span names and metric labels, so they are short identifiers written in code. */
export function primitiveName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) fail(option, 'a name of 1-100 characters from [A-Za-z0-9_.:-] starting with a letter or underscore', value);
  return value;
}
