import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Exports traces over OTLP/HTTP when an endpoint is configured (the exporter reads
 * `OTEL_EXPORTER_OTLP_ENDPOINT` and appends `/v1/traces`, plus any `OTEL_EXPORTER_OTLP_*` headers).
 * Returns a function that flushes and shuts the exporter down, or undefined when tracing is off.
 *
 * @example
 * ```ts
 * const stopTracing = startTracing(config.otlpEndpoint, 'weft-gateway');
 * // on shutdown
 * await stopTracing?.();
 * ```
 */
export function startTracing(endpoint: string | undefined, serviceName: string): (() => Promise<void>) | undefined {
  if (endpoint === undefined) return undefined;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return () => provider.shutdown().catch(() => undefined);
}
