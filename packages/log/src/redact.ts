import { REDACTED, redactSecrets } from '@weft/core';

export { REDACTED };

/** How deep objects are searched; pino itself serialises only 5 levels (`depthLimit`). */
const MAX_DEPTH = 10;

/**
 * Replaces every occurrence of each secret in a string, longest secrets first: core's
 * `redactSecrets`, the one implementation every package uses.
 *
 * @example
 * ```ts
 * redactString('key=abc123', ['abc123']); // 'key=[REDACTED]'
 * ```
 */
export const redactString: (text: string, secrets: readonly string[]) => string = redactSecrets;

/** Secrets ordered longest first, so a secret that contains another is replaced whole. */
export function orderSecrets(secrets: readonly string[]): readonly string[] {
  return secrets.length > 1 ? [...secrets].sort((a, b) => b.length - a.length) : secrets;
}

/**
 * Returns `value` with every occurrence of a secret replaced in every string inside it (keys, values,
 * array items, error messages, stacks and causes, and what `toJSON` returns). Structure is kept; the
 * input is never mutated, and is returned as is when it holds no secret. Values nested deeper than
 * 10 levels are replaced by `[Truncated]`, so nothing unsearched is logged.
 *
 * @example
 * ```ts
 * redactValue({ auth: { header: 'Bearer abc123' } }, ['abc123']); // { auth: { header: 'Bearer [REDACTED]' } }
 * ```
 */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  return walk(value, orderSecrets(secrets), 0, new Set()) as T;
}

function walk(value: unknown, secrets: readonly string[], depth: number, path: Set<object>): unknown {
  if (typeof value === 'string') return redactString(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (path.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  path.add(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = walk(value[i], secrets, depth + 1, path);
        if (v !== value[i]) (copy ??= value.slice())[i] = v;
      }
      return copy ?? value;
    }
    if (value instanceof Error) return walkError(value, secrets, depth, path);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      let json: unknown;
      try {
        json = toJSON.call(value);
      } catch {
        return '[Unserializable]';
      }
      const redacted = walk(json, secrets, depth + 1, path);
      return redacted === json ? value : redacted;
    }
    return walkProperties(value as Record<string, unknown>, secrets, depth, path, () => Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>);
  } finally {
    path.delete(value);
  }
}

/** Own enumerable string-keyed properties, as JSON serialisation sees them; keys are redacted too. */
function walkProperties(
  value: Record<string, unknown>,
  secrets: readonly string[],
  depth: number,
  path: Set<object>,
  create: () => Record<string, unknown>,
): Record<string, unknown> {
  let changed = false;
  const keys = Object.keys(value);
  const out = new Array<[string, unknown]>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let v: unknown;
    try {
      v = value[key];
    } catch {
      v = '[Unreadable]';
    }
    const rv = walk(v, secrets, depth + 1, path);
    const rk = redactString(key, secrets);
    if (rv !== v || rk !== key) changed = true;
    out[i] = [rk, rv];
  }
  if (!changed) return value;
  const copy = create();
  for (const [k, v] of out) copy[k] = v;
  return copy;
}

function walkError(error: Error, secrets: readonly string[], depth: number, path: Set<object>): Error {
  const message = redactString(String(error.message), secrets);
  const stack = typeof error.stack === 'string' ? redactString(error.stack, secrets) : error.stack;
  const hasCause = 'cause' in error;
  const cause = hasCause ? walk(error.cause, secrets, depth + 1, path) : undefined;
  const aggregate = (error as { errors?: unknown }).errors;
  const errors = Array.isArray(aggregate) ? walk(aggregate, secrets, depth + 1, path) : aggregate;
  let copy: Record<string, unknown> | undefined;
  const props = walkProperties(error as unknown as Record<string, unknown>, secrets, depth, path, () => (copy = Object.create(Object.getPrototypeOf(error) as object) as Record<string, unknown>));
  if (message === error.message && stack === error.stack && (!hasCause || cause === error.cause) && errors === aggregate && props === (error as unknown)) return error;
  const out = copy ?? (Object.assign(Object.create(Object.getPrototypeOf(error) as object) as object, error) as Record<string, unknown>);
  // message, stack and cause are own but not enumerable on real errors: keep them so.
  for (const [key, v] of [['message', message], ['stack', stack], ...(hasCause ? [['cause', cause]] : []), ...(Array.isArray(aggregate) ? [['errors', errors]] : [])] as [string, unknown][]) {
    Object.defineProperty(out, key, { value: v, writable: true, configurable: true, enumerable: Object.prototype.propertyIsEnumerable.call(error, key) });
  }
  if (Object.prototype.hasOwnProperty.call(error, 'name') && !Object.prototype.propertyIsEnumerable.call(error, 'name')) {
    Object.defineProperty(out, 'name', { value: error.name, writable: true, configurable: true, enumerable: false });
  }
  return out as unknown as Error;
}
