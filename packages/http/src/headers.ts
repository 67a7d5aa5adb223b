/**
 * Headers to read from: a Fetch `Headers`, anything with `get(name)`, or a Node-style record such as
 * `IncomingMessage.headers` (lower-case keys; other keys are matched case-insensitively).
 */
export type HeaderSource =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/**
 * Headers to write to: a Fetch `Headers` (or anything with `set`), a Node `ServerResponse` or
 * `ClientRequest` (anything with `setHeader`), or a plain record, which gets lower-case keys.
 */
export type HeaderTarget =
  | { set(name: string, value: string): unknown }
  | { setHeader(name: string, value: string): unknown }
  | Record<string, string | readonly string[] | number | undefined>;

/** The header Weft carries the correlation ID in, inbound and outbound. */
export const CORRELATION_ID_HEADER = 'x-correlation-id';

/**
 * Reads one header. Returns undefined when it is absent, and the values joined with `,` when a record
 * holds an array (repeated header). Never throws.
 *
 * @example
 * ```ts
 * getHeader(req.headers, 'traceparent');
 * ```
 */
export function getHeader(source: HeaderSource, name: string): string | undefined {
  try {
    if (typeof (source as { get?: unknown }).get === 'function') {
      const v = (source as { get(n: string): string | null | undefined }).get(name);
      return typeof v === 'string' ? v : undefined;
    }
    const record = source as Readonly<Record<string, unknown>>;
    let v = record[name];
    if (v === undefined) {
      for (const key of Object.keys(record)) {
        if (key.length === name.length && key.toLowerCase() === name) {
          v = record[key];
          break;
        }
      }
    }
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.every((x) => typeof x === 'string') ? (v).join(',') : undefined;
    return undefined;
  } catch {
    return undefined;
  }
}

/** Whether a header target already has `name` set. */
export function hasHeader(target: HeaderTarget, name: string): boolean {
  const t = target as { has?: unknown; hasHeader?: unknown };
  if (typeof t.has === 'function') return (target as unknown as { has(n: string): boolean }).has(name);
  if (typeof t.hasHeader === 'function') return (target as unknown as { hasHeader(n: string): boolean }).hasHeader(name);
  return getHeader(target as HeaderSource, name) !== undefined;
}

/** Writes one header, replacing any value it had. */
export function setHeader(target: HeaderTarget, name: string, value: string): void {
  const t = target as { set?: unknown; setHeader?: unknown };
  if (typeof t.set === 'function') (target as { set(n: string, v: string): unknown }).set(name, value);
  else if (typeof t.setHeader === 'function') (target as { setHeader(n: string, v: string): unknown }).setHeader(name, value);
  else {
    const record = target as Record<string, unknown>;
    // A plain record may hold the header under another casing; keep exactly one.
    for (const key of Object.keys(record)) if (key !== name && key.length === name.length && key.toLowerCase() === name) delete record[key];
    record[name] = value;
  }
}
