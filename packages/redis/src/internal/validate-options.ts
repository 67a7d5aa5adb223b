/**
 * Small validators for options, run once when a store or wrapper is built. Each throws a TypeError
 * naming the option: ``Expected `commandTimeoutMs` to be a number >= 1, got 0``. (The same rules
 * as @weft/core's own, which are internal to that package.)
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

export function number(option: string, value: unknown, defaults: number, { min = -Infinity, max = Infinity, integer = false } = {}): number {
  if (value === undefined) return defaults;
  const desc = `${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) fail(option, desc, value);
  return value;
}

export function optionalFunction<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as F;
}

export function boolean(option: string, value: unknown, defaults: boolean): boolean {
  if (value === undefined) return defaults;
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

/** Rejects options this object does not know, so a typo does not pass silently. */
export function knownOptions(option: string, o: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new TypeError(`Unknown ${option} option \`${k}\``);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;

/** A short identifier written in code: a store, breaker, saga or dead-letter name. */
export function name(option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) fail(option, 'a name of 1-100 characters from [A-Za-z0-9_.:-] starting with a letter or underscore', value);
  return value;
}

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A key prefix: no braces (they would break Redis Cluster hash tags) and no spaces. */
export function prefix(option: string, value: unknown, defaults: string): string {
  if (value === undefined) return defaults;
  if (typeof value !== 'string' || !PREFIX.test(value)) fail(option, 'a prefix of 1-64 characters from [A-Za-z0-9_.:-]', value);
  return value;
}
