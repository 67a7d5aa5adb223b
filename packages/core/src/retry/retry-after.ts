/**
 * Reads a "retry after" hint, in milliseconds, from an error, or returns undefined when it has none.
 * This is what `retry()` honours by default (`retryAfter: true`). Where it looks, in order:
 *
 * 1. `error.retryAfter` as a **number: milliseconds** (Weft's `RateLimitedError`).
 * 2. `error.retryAfter` as a **string: an HTTP `Retry-After` value**, delta-seconds (`"120"`) or an
 *    HTTP-date (`"Wed, 21 Oct 2026 07:28:00 GMT"`).
 * 3. `error.retryAfterMs` as a number of milliseconds (Weft's `CircuitOpenError`).
 * 4. Response headers at `error.headers` or `error.response.headers`, either a `Headers`-like object
 *    with `get()` (fetch, ky, AxiosHeaders, OpenAI/Anthropic SDK v5) or a plain object (Node's
 *    `IncomingHttpHeaders`, OpenAI/Anthropic SDK v4): first `retry-after-ms` (milliseconds, as those
 *    SDKs send), then `retry-after` (HTTP semantics, seconds or a date).
 *
 * Negative, NaN and unparseable values count as no hint; a date in the past is 0. Never throws,
 * even on hostile getters.
 *
 * @example
 * ```ts
 * retryAfterFrom(new RateLimitedError(250));                        // 250
 * retryAfterFrom({ headers: new Headers({ 'retry-after': '2' }) }); // 2000
 * ```
 */
export function retryAfterFrom(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  try {
    const e = error as Record<string, unknown>;
    const hint = e['retryAfter'];
    if (typeof hint === 'number') return millis(hint);
    if (typeof hint === 'string') return httpRetryAfter(hint);
    const ms = e['retryAfterMs'];
    if (typeof ms === 'number') return millis(ms);
    let headers = e['headers'];
    if (headers === undefined) {
      const response = e['response'];
      if (typeof response === 'object' && response !== null) headers = (response as Record<string, unknown>)['headers'];
    }
    if (typeof headers !== 'object' || headers === null) return undefined;
    const msHeader = header(headers, 'retry-after-ms');
    if (msHeader !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(msHeader)) return Number(msHeader);
    const value = header(headers, 'retry-after');
    return value === undefined ? undefined : httpRetryAfter(value);
  } catch {
    return undefined;
  }
}

function millis(value: number): number | undefined {
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** An HTTP `Retry-After` value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
function httpRetryAfter(value: string): number | undefined {
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (!/[a-z]/i.test(s)) return undefined; // "-1", "1e3": neither seconds nor a date
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  const ms = at - Date.now();
  return ms > 0 ? ms : 0;
}

function header(headers: object, name: string): string | undefined {
  const get = (headers as { get?: unknown }).get;
  let value: unknown;
  if (typeof get === 'function') {
    value = (get as (n: string) => unknown).call(headers, name);
  } else {
    const record = headers as Record<string, unknown>;
    value = record[name];
    if (value === undefined) {
      for (const key of Object.keys(record)) {
        if (key.toLowerCase() === name) {
          value = record[key];
          break;
        }
      }
    }
  }
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value : undefined;
}
