/** Small option validators: each throws a TypeError naming the option, as `@weft/core` does. */
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

export function optionsObject(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(option, 'an options object', value);
  return value as Record<string, unknown>;
}

export function boolean(option: string, value: unknown, defaults: boolean): boolean {
  if (value === undefined) return defaults;
  if (typeof value !== 'boolean') fail(option, 'a boolean', value);
  return value;
}
