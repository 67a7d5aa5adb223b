import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A finished span with its children, as {@link SpanRecording.tree} returns them. */
export interface SpanNode {
  readonly span: ReadableSpan;
  readonly name: string;
  readonly children: readonly SpanNode[];
}

/** An in-memory OpenTelemetry SDK for one test; see {@link recordSpans}. */
export interface SpanRecording {
  /** The exporter every finished span goes to. */
  readonly exporter: InMemorySpanExporter;
  /** The spans finished so far, in the order they ended. */
  spans(): ReadableSpan[];
  /** The finished spans as a forest: each span under its parent (parents resolved by ID), roots first, children in start order. */
  tree(): SpanNode[];
  /**
   * The tree as indented text, one span per line with its status, for snapshots and failure messages:
   * ```
   * checkout
   *   retry pay
   *     pay (error)
   *     pay
   * ```
   */
  outline(): string;
  /** Forgets the spans finished so far. */
  reset(): void;
  /** Shuts the SDK down and unregisters the global tracer provider and context manager. */
  stop(): Promise<void>;
}

/**
 * Registers an in-memory OpenTelemetry SDK (a global tracer provider and an async-hooks context
 * manager) for one test, and reads back what Weft traced.
 *
 * @example
 * ```ts
 * import { step } from '@weft/core';
 * import { recordSpans } from '@weft/testing';
 *
 * const spans = recordSpans();
 * await step('greet', () => 'hi').run(undefined);
 * console.log(spans.outline()); // 'greet'
 * await spans.stop();
 * ```
 */
export function recordSpans(): SpanRecording {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(provider);
  const tree = (): SpanNode[] => {
    const spans = [...exporter.getFinishedSpans()].sort((a, b) => hr(a.startTime) - hr(b.startTime));
    const byId = new Map<string, { span: ReadableSpan; name: string; children: SpanNode[] }>();
    for (const span of spans) byId.set(span.spanContext().spanId, { span, name: span.name, children: [] });
    const roots: SpanNode[] = [];
    for (const node of byId.values()) {
      const parent = parentSpanId(node.span);
      const p = parent === undefined ? undefined : byId.get(parent);
      if (p === undefined) roots.push(node);
      else p.children.push(node);
    }
    return roots;
  };
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    tree,
    outline: () => {
      const lines: string[] = [];
      const walk = (nodes: readonly SpanNode[], depth: number): void => {
        for (const n of nodes) {
          lines.push(`${'  '.repeat(depth)}${n.name}${n.span.status.code === SpanStatusCode.ERROR ? ' (error)' : ''}`);
          walk(n.children, depth + 1);
        }
      };
      walk(tree(), 0);
      return lines.join('\n');
    },
    reset: () => exporter.reset(),
    stop: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/**
 * The parent span ID of a finished span, across SDK 1.x (`parentSpanId`) and 2.x (`parentSpanContext`).
 *
 * @example
 * ```ts
 * import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
 * import { parentSpanId } from '@weft/testing';
 * declare const child: ReadableSpan;
 * console.log(parentSpanId(child));
 * ```
 */
export function parentSpanId(span: ReadableSpan): string | undefined {
  const s = span as unknown as { parentSpanContext?: { spanId: string }; parentSpanId?: string };
  return s.parentSpanContext?.spanId ?? s.parentSpanId;
}

function hr(t: readonly [number, number]): number {
  return t[0] * 1e9 + t[1];
}
