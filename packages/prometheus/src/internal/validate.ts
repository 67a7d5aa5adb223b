/**
 * Option validators, run once when a collector is built. Each throws a TypeError naming the option:
 * ``Expected `maxLabelValues` to be an integer >= 1, got 0``.
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

export function integer(option: string, value: unknown, defaults: number, min: number, max: number): number {
  if (value === undefined) return defaults;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, `an integer >= ${min} and <= ${max}`, value);
  return value;
}

export function optionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(option, 'a boolean', value);
  return value;
}
