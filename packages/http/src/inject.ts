import { propagation, trace, isSpanContextValid, type Context } from '@opentelemetry/api';
import { currentContext, type RunContext } from '@weft/core';
import { boolean, optionsObject } from '@weft/core/options';
import { formatBaggage } from './baggage.js';
import { CORRELATION_ID_HEADER, hasHeader, setHeader, type HeaderTarget } from './headers.js';
import { propagationContext } from './internal/otel-context.js';
import { formatTraceparent } from './trace-context.js';

/** Options for {@link inject}. */
export interface InjectOptions {
  /** Write `traceparent` (and `tracestate` when there is one). @default true */
  readonly trace?: boolean;
  /** Write `baggage` from the OpenTelemetry context. @default true */
  readonly baggage?: boolean;
  /** Write `x-correlation-id` from the run. @default true */
  readonly correlationId?: boolean;
  /** Replace headers the target already has; when false, headers set by the caller are kept. @default true */
  readonly overwrite?: boolean;
}

const DEFAULTS = { trace: true, baggage: true, correlationId: true, overwrite: true } as const satisfies Required<InjectOptions>;

/**
 * Writes the propagation headers for an outbound request: `traceparent` and `tracestate` from the
 * active span (or the run's span when no span is active), `baggage`, and `x-correlation-id` from the
 * current run (`currentContext()`), or from `ctx` when given. Headers with nothing to carry are left
 * alone. Returns the target.
 *
 * @example
 * ```ts
 * const res = await fetch(url, { headers: inject({ accept: 'application/json' }) });
 * // inside a step, explicitly: inject(headers, ctx)
 * ```
 */
export function inject<T extends HeaderTarget>(target: T, ctx?: RunContext, options?: InjectOptions): T {
  const o = optionsObject('options', options, ['trace', 'baggage', 'correlationId', 'overwrite'], 'inject');
  const resolved: Required<InjectOptions> = {
    trace: boolean('trace', o.trace, DEFAULTS.trace),
    baggage: boolean('baggage', o.baggage, DEFAULTS.baggage),
    correlationId: boolean('correlationId', o.correlationId, DEFAULTS.correlationId),
    overwrite: boolean('overwrite', o.overwrite, DEFAULTS.overwrite),
  };
  injectFrom(target, propagationContext(ctx), ctx ?? currentContext(), resolved);
  return target;
}

/** @internal Writes the headers from an explicit OpenTelemetry context and run context. */
export function injectFrom(target: HeaderTarget, otel: Context, run: RunContext | undefined, o: Required<InjectOptions>): void {
  const write = (name: string, value: string): void => {
    if (o.overwrite || !hasHeader(target, name)) setHeader(target, name, value);
  };
  if (o.trace) {
    const spanContext = trace.getSpanContext(otel);
    if (spanContext !== undefined && isSpanContextValid(spanContext)) {
      write('traceparent', formatTraceparent(spanContext));
      const state = spanContext.traceState?.serialize();
      if (state) write('tracestate', state);
    }
  }
  if (o.baggage) {
    const baggage = propagation.getBaggage(otel);
    const header = baggage === undefined ? undefined : formatBaggage(baggage);
    if (header !== undefined) write('baggage', header);
  }
  if (o.correlationId && run !== undefined) write(CORRELATION_ID_HEADER, run.correlationId);
}
