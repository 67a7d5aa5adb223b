import { SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { currentContext, redactSecrets, secretValues, type RunContext } from '@weft/core';
import { boolean, fail, optionsObject } from '@weft/core/options';
import { injectFrom } from './inject.js';
import { propagationContext } from './internal/otel-context.js';

/** A `fetch`-compatible function. */
export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** `RequestInit` plus the run context to use when `currentContext()` is not the right one (or is lost). */
export interface WeftFetchInit extends RequestInit {
  /** The run context whose signal, correlation ID and span the request carries. @default currentContext() */
  readonly ctx?: RunContext;
}

/** A `fetch` that carries the current run's signal and propagation headers. */
export type WeftFetch = (input: string | URL | Request, init?: WeftFetchInit) => Promise<Response>;

/** Options for {@link createFetch}. */
export interface CreateFetchOptions {
  /** The fetch to call. @default globalThis.fetch, looked up on each call */
  readonly fetch?: FetchFn;
  /** Start an OpenTelemetry CLIENT span per request when the trace is recording. @default true */
  readonly span?: boolean;
  /**
   * Which requests get `traceparent`, `baggage` and `x-correlation-id`; return false for third
   * parties that should not see them. The run's signal is passed on regardless.
   * @default () => true
   */
  readonly propagate?: (url: URL) => boolean;
}

const DEFAULTS = { span: true, propagate: () => true } as const satisfies Required<Omit<CreateFetchOptions, 'fetch'>>;
const PROPAGATE_ALL = { trace: true, baggage: true, correlationId: true, overwrite: false } as const;


/**
 * Builds a fetch for outbound calls made inside a run. Each call:
 * - passes the run's signal on, so aborting the run (caller abort, timeout, failed sibling) aborts
 *   the request; combined with `init.signal` only when both exist;
 * - writes `traceparent`, `tracestate`, `baggage` and `x-correlation-id` (headers the caller set win);
 * - when the trace is recording, wraps the request in a CLIENT span (`url.full` without query or
 *   credentials, run secrets redacted) that the callee's spans become children of.
 * Outside a run it behaves like `fetch` plus trace headers from the active span.
 *
 * @example
 * ```ts
 * const fetchJson = createFetch({ propagate: (url) => url.hostname.endsWith('.internal') });
 * const quote = step('quote', async (id: string, ctx) => (await fetchJson(`${base}/quotes/${id}`, { ctx })).json());
 * ```
 */
export function createFetch(options?: CreateFetchOptions): WeftFetch {
  const o = optionsObject('options', options, ['fetch', 'span', 'propagate'], 'createFetch');
  if (o.fetch !== undefined && typeof o.fetch !== 'function') fail('fetch', 'a function', o.fetch);
  if (o.propagate !== undefined && typeof o.propagate !== 'function') fail('propagate', 'a function', o.propagate);
  const baseFetch = o.fetch as FetchFn | undefined;
  const withSpan = boolean('span', o.span, DEFAULTS.span);
  const propagate = (o.propagate as ((url: URL) => boolean) | undefined) ?? DEFAULTS.propagate;
  const filtered = o.propagate !== undefined;

  return (input, init) => {
    try {
      const base = baseFetch ?? globalThis.fetch;
      const run = init?.ctx ?? currentContext();
      const isRequest = typeof Request === 'function' && input instanceof Request;

      // Signal: the run's, the caller's, or both combined (AbortSignal.any only when both exist).
      const runSignal = run?.signal;
      const callerSignal = init?.signal ?? (isRequest ? (input).signal : undefined);
      const signal = runSignal && callerSignal ? AbortSignal.any([runSignal, callerSignal]) : (runSignal ?? callerSignal ?? undefined);

      const url = filtered || withSpan ? toUrl(input) : undefined;
      const parent = propagationContext(init?.ctx);
      let span: Span | undefined;
      let otel: Context = parent;
      let secrets: string[] = [];
      const method = (init?.method ?? (isRequest ? (input).method : 'GET')).toUpperCase();
      if (withSpan && url !== undefined && trace.getSpan(parent)?.isRecording() === true) {
        secrets = secretValues(run);
        span = startClientSpan(method, url, parent, secrets);
        otel = trace.setSpan(parent, span);
      }

      const next: RequestInit = init === undefined ? {} : stripCtx(init);
      if (!filtered || (url !== undefined && safePredicate(propagate, url))) {
        const headers = new Headers(init?.headers ?? (isRequest ? (input).headers : undefined));
        injectFrom(headers, otel, run, PROPAGATE_ALL);
        next.headers = headers;
      }
      if (signal !== undefined) next.signal = signal;

      const pending = base(input, next);
      if (span === undefined) return pending;
      const s = span;
      return pending.then(
        (response) => {
          endClientSpan(s, response.status);
          return response;
        },
        (error: unknown) => {
          failClientSpan(s, error, secrets);
          throw error;
        },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * A fetch that carries the current run's signal and propagation headers; see {@link createFetch}.
 * Pass `{ ctx }` in `init` to use a run context explicitly.
 *
 * @example
 * ```ts
 * const charge = step('charge', async (order: Order, ctx) => {
 *   const res = await weftFetch('http://payments.internal/charges', { method: 'POST', body: JSON.stringify(order), ctx });
 *   return res.json();
 * });
 * ```
 */
export const weftFetch: WeftFetch = createFetch();

function stripCtx(init: WeftFetchInit): RequestInit {
  if (!('ctx' in init)) return { ...init };
  const { ctx: _ctx, ...rest } = init;
  return rest;
}

function toUrl(input: string | URL | Request): URL | undefined {
  try {
    if (input instanceof URL) return input;
    return new URL(typeof input === 'string' ? input : input.url);
  } catch {
    return undefined;
  }
}

function safePredicate(predicate: (url: URL) => boolean, url: URL): boolean {
  try {
    return predicate(url) === true;
  } catch {
    return false;
  }
}

function startClientSpan(method: string, url: URL, parent: Context, secrets: readonly string[]): Span {
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  // The tracer is looked up per call, not at import: an SDK registered later (or through another
  // copy of @opentelemetry/api, or again after trace.disable()) is picked up.
  return trace.getTracer('@weft/http', '0.1.0').startSpan(
    method,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': method,
        'server.address': url.hostname,
        'server.port': port,
        // Query strings and credentials often hold tokens: leave them out, and redact run secrets.
        'url.full': redactSecrets(`${url.protocol}//${url.host}${url.pathname}`, secrets),
      },
    },
    parent,
  );
}

function endClientSpan(span: Span, status: number): void {
  try {
    span.setAttribute('http.response.status_code', status);
    if (status >= 400) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  } catch {
    // telemetry never breaks a workflow
  }
}

function failClientSpan(span: Span, error: unknown, secrets: readonly string[]): void {
  try {
    const name = error instanceof Error ? error.name : 'Error';
    const message = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
    span.setAttribute('error.type', name);
    span.recordException({ name, message });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    span.end();
  } catch {
    // telemetry never breaks a workflow
  }
}
