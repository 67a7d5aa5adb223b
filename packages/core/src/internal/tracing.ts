import { ProxyTracerProvider, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { Ctx } from './ctx.js';

/** @internal The library tracer; a ProxyTracer, so an SDK registered later is picked up. */
export const tracer = trace.getTracer('@weft/core', '0.1.0');

/** The API's no-op provider, which a global proxy with no SDK behind it delegates to. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether any tracer provider is registered. With none, every span would be a non-recording no-op,
 * so a run skips creating its root span at all (the hot path of an untraced service). Checked per
 * run, so an SDK registered later is picked up.
 */
export function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  return typeof provider.getDelegate !== 'function' || provider.getDelegate() !== NOOP_PROVIDER;
}

/**
 * Starts a child span of the context's span when the trace is recording, and returns a derived
 * context carrying it. When the parent is not recording (no SDK, or sampled out) no span is made:
 * a ParentBased sampler would drop it anyway, and the hot path stays cheap.
 */
export function childSpan(ctx: Ctx, name: string, attributes: Attributes): { ctx: Ctx; span: Span | undefined } {
  if (ctx.span === undefined) return { ctx, span: undefined };
  const span = tracer.startSpan(name, { attributes }, ctx.otel);
  const otel = trace.setSpan(ctx.otel, span);
  return { ctx: ctx.with({ span, otel }), span };
}

/** Marks a span failed with the exception recorded. Never throws. */
export function failSpan(span: Span, error: unknown): void {
  try {
    if (error instanceof Error) span.recordException(error);
    else span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
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
