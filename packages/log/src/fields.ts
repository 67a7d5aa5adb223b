import { context as otelContext, isSpanContextValid, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { currentContext } from '@weft/core';

/** The fields Weft stamps on each log line written during a run. */
export interface WeftLogFields {
  correlation_id?: string;
  run_id?: string;
  trace_id?: string;
  span_id?: string;
}

/**
 * The correlation fields for a line logged now: `correlation_id` and `run_id` from the current run
 * (`currentContext()`), `trace_id` and `span_id` from the active span, or from the run's span when no
 * span is active. Empty outside a run with no active span. Never throws.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify({ ...weftLogFields(), msg: 'hello' }));
 * ```
 */
export function weftLogFields(): WeftLogFields {
  const fields: WeftLogFields = {};
  try {
    const run = currentContext();
    if (run !== undefined) {
      fields.correlation_id = run.correlationId;
      fields.run_id = run.runId;
    }
    let sc: SpanContext | undefined = trace.getSpanContext(otelContext.active());
    if ((sc === undefined || !isSpanContextValid(sc)) && run !== undefined) {
      // @weft/core keeps the run's OpenTelemetry context as `otel`, without a public accessor.
      const otel = (run as { otel?: Context }).otel;
      sc = otel !== undefined && typeof otel.getValue === 'function' ? trace.getSpanContext(otel) : undefined;
    }
    if (sc !== undefined && isSpanContextValid(sc)) {
      fields.trace_id = sc.traceId;
      fields.span_id = sc.spanId;
    }
  } catch {
    // telemetry never breaks a workflow
  }
  return fields;
}
