import { context as otelContext, trace, type Context } from '@opentelemetry/api';
import { currentContext, type RunContext } from '@weft/core';

/**
 * The OpenTelemetry context a run context parents new spans on. `@weft/core` keeps it on its context
 * object as `otel` without a public accessor, so it is read by shape; undefined when absent.
 */
function runOtelContext(ctx: RunContext | undefined): Context | undefined {
  if (ctx === undefined) return undefined;
  const otel = (ctx as { otel?: unknown }).otel;
  return typeof otel === 'object' && otel !== null && typeof (otel as Context).getValue === 'function' ? (otel as Context) : undefined;
}

/**
 * The OpenTelemetry context outbound propagation uses: an explicit run context's own, otherwise the
 * active context, falling back to the current run's when the active one has no span (code that runs
 * inside a run but outside a step, or after the active context was lost).
 */
export function propagationContext(ctx: RunContext | undefined): Context {
  if (ctx !== undefined) return runOtelContext(ctx) ?? otelContext.active();
  const active = otelContext.active();
  if (trace.getSpan(active) !== undefined) return active;
  return runOtelContext(currentContext()) ?? active;
}
