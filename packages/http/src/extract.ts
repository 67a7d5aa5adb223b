import { context as otelContext, propagation, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { resolveCorrelationId, type CorrelationIdRejection, type Primitive, type RunOptions } from '@weft/core';
import { boolean, fail, optionsObject, RUN_OPTIONS } from '@weft/core/options';
import { parseBaggage } from './baggage.js';
import { CORRELATION_ID_HEADER, getHeader, setHeader, type HeaderSource, type HeaderTarget } from './headers.js';
import { parseTraceparent } from './trace-context.js';

/** Options for {@link extract}. */
export interface ExtractOptions {
  /** Read `traceparent` and `tracestate`, so the run's span joins the caller's trace. @default true */
  readonly trace?: boolean;
  /** Read `baggage`. Turn it off for callers you do not trust to set it. @default true */
  readonly baggage?: boolean;
  /** The OpenTelemetry context to add the extracted parent and baggage to. @default context.active() */
  readonly context?: Context;
}

/** What {@link extract} found in a request's headers. */
export interface Extracted {
  /** The OpenTelemetry context to run in: the caller's span as remote parent, and its baggage. */
  readonly context: Context;
  /** The caller's `x-correlation-id` when valid, otherwise a fresh one; safe to echo. */
  readonly correlationId: string;
  /** Why the caller's correlation ID was replaced; undefined when it was valid or absent. */
  readonly correlationIdReplaced: CorrelationIdRejection | undefined;
  /** The caller's span context, when `traceparent` was present and valid. */
  readonly parent: SpanContext | undefined;
}

const DEFAULTS = { trace: true, baggage: true } as const satisfies Required<Omit<ExtractOptions, 'context'>>;

/**
 * Reads the propagation headers of an inbound request: W3C `traceparent`/`tracestate` and `baggage`
 * (strictly validated; a malformed header is ignored) and `x-correlation-id` (accepted when it has at
 * most 128 characters from `[A-Za-z0-9._:-]`, otherwise replaced by a fresh ID and never echoed).
 *
 * @example
 * ```ts
 * const { context: parent, correlationId } = extract(req.headers);
 * res.setHeader('x-correlation-id', correlationId);
 * const out = await context.with(parent, () => flow.run(input, { correlationId }));
 * ```
 */
export function extract(headers: HeaderSource, options?: ExtractOptions): Extracted {
  if (typeof headers !== 'object' || headers === null) fail('headers', 'a headers object', headers);
  const o = optionsObject('options', options, ['trace', 'baggage', 'context'], 'extract');
  const readTrace = boolean('trace', o.trace, DEFAULTS.trace);
  const readBaggage = boolean('baggage', o.baggage, DEFAULTS.baggage);
  if (o.context !== undefined && (typeof o.context !== 'object' || o.context === null || typeof (o.context as Context).getValue !== 'function')) {
    fail('context', 'an OpenTelemetry Context', o.context);
  }
  let ctx = (o.context as Context | undefined) ?? otelContext.active();
  let parent: SpanContext | undefined;
  if (readTrace) {
    parent = parseTraceparent(getHeader(headers, 'traceparent'), getHeader(headers, 'tracestate'));
    if (parent !== undefined) ctx = trace.setSpanContext(ctx, parent);
  }
  if (readBaggage) {
    const baggage = parseBaggage(getHeader(headers, 'baggage'));
    if (baggage !== undefined) ctx = propagation.setBaggage(ctx, baggage);
  }
  const { id, replaced } = resolveCorrelationId(getHeader(headers, CORRELATION_ID_HEADER));
  return { context: ctx, correlationId: id, correlationIdReplaced: replaced, parent };
}

/**
 * The run options an inbound request implies: its correlation ID (validated, or fresh). The trace
 * parent travels in the OpenTelemetry context instead, so prefer {@link runWithHeaders}, or run
 * inside `context.with(extract(headers).context, ...)`.
 *
 * @example
 * ```ts
 * await flow.run(input, { ...runOptionsFrom(req.headers), timeout: 5_000 });
 * ```
 */
export function runOptionsFrom(headers: HeaderSource): Partial<RunOptions> {
  return { correlationId: extract(headers, { trace: false, baggage: false }).correlationId };
}

/** Options for {@link runWithHeaders}: the run's options and how to read the headers. */
export interface RunWithHeadersOptions extends RunOptions, ExtractOptions {
  /** Where to echo the correlation ID before the run starts, such as the `ServerResponse`. */
  readonly response?: HeaderTarget;
}

/**
 * Runs a primitive for an inbound request: extracts the trace parent, baggage and correlation ID from
 * `headers` (see {@link extract}), runs with the run's span as a child of the caller's, and echoes the
 * correlation ID on `options.response` when given. A `correlationId` in `options` wins over the header.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const out = await runWithHeaders(flow, input, req.headers, { response: res, timeout: 5_000 });
 *   res.end(JSON.stringify(out));
 * });
 * ```
 */
export function runWithHeaders<I, O>(primitive: Primitive<I, O>, input: I, headers: HeaderSource, options?: RunWithHeadersOptions): Promise<O> {
  const { trace: readTrace, baggage, context, response, ...runOptions } = optionsObject('options', options, [...RUN_OPTIONS, 'trace', 'baggage', 'context', 'response'], 'runWithHeaders') as RunWithHeadersOptions;
  const extracted = extract(headers, { trace: readTrace, baggage, context });
  // An explicit ID is validated here too, so the echoed ID is the one the run carries.
  const correlationId = runOptions.correlationId === undefined ? extracted.correlationId : resolveCorrelationId(runOptions.correlationId).id;
  if (response !== undefined) setHeader(response, CORRELATION_ID_HEADER, correlationId);
  return otelContext.with(extracted.context, () => primitive.run(input, { ...runOptions, correlationId }));
}
