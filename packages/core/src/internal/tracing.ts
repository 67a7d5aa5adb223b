import type { Attributes, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { otelApi } from './otel.js';
import type { Ctx } from './ctx.js';

const NAME = '@weft/core';
const VERSION = '0.1.0';

let cachedDelegate: unknown;
let cachedTracer: Tracer | undefined;

/**
 * The tracer of the tracer provider registered now, or undefined when none is (every span would be
 * a non-recording no-op, so a run skips creating its root span at all: the hot path of an untraced
 * service). Looked up per run, never cached at import: an SDK registered after `@weft/core` is
 * imported, re-registered after `trace.disable()`, or registered through another installed copy of
 * `@opentelemetry/api` (they share the global registration) is picked up. The tracer is cached per
 * provider, so the lookup costs two property reads when nothing changed.
 */
export function activeTracer(): Tracer | undefined {
  const api = otelApi();
  if (api === undefined) return undefined;
  const provider = api.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  if (delegate === cachedDelegate) return cachedTracer;
  cachedDelegate = delegate;
  cachedTracer = isNoop(api, delegate) ? undefined : delegate.getTracer(NAME, VERSION);
  return cachedTracer;
}

let noopProvider: TracerProvider | undefined;
/** The API's no-op provider (which a global proxy with no SDK behind it delegates to), of this copy of the API or of another (recognised by its class name). */
function isNoop(api: NonNullable<ReturnType<typeof otelApi>>, provider: TracerProvider): boolean {
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  return provider === noopProvider || provider.constructor?.name === 'NoopTracerProvider';
}

/**
 * Starts a child span of the context's span when the trace is recording, and returns a derived
 * context carrying it. When the parent is not recording (no SDK, or sampled out) no span is made:
 * a ParentBased sampler would drop it anyway, and the hot path stays cheap.
 */
export function childSpan(ctx: Ctx, name: string, attributes: Attributes): { ctx: Ctx; span: Span | undefined } {
  if (ctx.span === undefined) return { ctx, span: undefined };
  const tracer = activeTracer();
  if (tracer === undefined) return { ctx, span: undefined };
  const span = tracer.startSpan(name, { attributes }, ctx.otel);
  const otel = otelApi()!.trace.setSpan(ctx.otel!, span);
  return { ctx: ctx.with({ span, otel }), span };
}

/** Marks a span failed with the exception recorded. Never throws. */
export function failSpan(span: Span, error: unknown): void {
  try {
    if (error instanceof Error) span.recordException(error);
    else span.recordException(String(error));
    span.setStatus({ code: 2 /* SpanStatusCode.ERROR */, message: error instanceof Error ? error.message : String(error) });
  } catch {
    // telemetry never breaks a workflow
  }
}

/** Ends a span. Never throws. */
export function endSpan(span: Span): void {
  try {
    span.end();
  } catch {
    // telemetry never breaks a workflow
  }
}
