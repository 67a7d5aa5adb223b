import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Renders finished spans as an indented tree, parents before children. */
export function renderSpanTree(spans: ReadonlyArray<ReadableSpan>): string {
  const parentOf = (s: ReadableSpan): string | undefined => (s as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId;
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const s of spans) {
    const p = parentOf(s);
    const key = p !== undefined && ids.has(p) ? p : undefined;
    children.set(key, [...(children.get(key) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    const list = (children.get(parent) ?? []).sort((a, b) => hr(a.startTime) - hr(b.startTime));
    for (const s of list) {
      const ms = hr(s.endTime) - hr(s.startTime);
      const status = s.status.code === SpanStatusCode.ERROR ? ' ERROR' : '';
      lines.push(`${'  '.repeat(depth)}- ${s.name} (${ms.toFixed(2)} ms)${status}`);
      walk(s.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

function hr(t: [number, number]): number {
  return t[0] * 1e3 + t[1] / 1e6;
}
