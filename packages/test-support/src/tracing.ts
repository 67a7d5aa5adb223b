import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** An in-memory OpenTelemetry SDK registered for one test file. */
export interface InstalledTracing {
  /** The exporter every finished span goes to. */
  readonly exporter: InMemorySpanExporter;
  /** The spans finished so far. */
  spans(): ReadableSpan[];
  /** Shuts the provider down and unregisters the global tracer provider and context manager. */
  shutdown(): Promise<void>;
}

/**
 * Registers an in-memory OpenTelemetry SDK (global tracer provider and async-hooks context manager)
 * for a test file and returns its exporter.
 *
 * @example
 * ```ts
 * const tracing = installTracing();
 * afterEach(() => tracing.exporter.reset());
 * afterAll(() => tracing.shutdown());
 * ```
 */
export function installTracing(): InstalledTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/**
 * The parent span ID of a span, across SDK 1.x and 2.x shapes.
 *
 * @example
 * ```ts
 * expect(parentId(child)).toBe(root.spanContext().spanId);
 * ```
 */
export function parentId(span: ReadableSpan): string | undefined {
  const s = span as unknown as { parentSpanContext?: { spanId: string }; parentSpanId?: string };
  return s.parentSpanContext?.spanId ?? s.parentSpanId;
}
