import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { parentSpanId as parentId, recordSpans } from '../../../testing/src/record-spans.js';
import { step } from '../step/step.js';
import { sequence } from '../composition/sequence.js';
import { parallel } from '../composition/parallel.js';

describe('spans', () => {
  let t: ReturnType<typeof recordSpans>;
  beforeAll(() => {
    t = recordSpans();
  });
  afterAll(async () => {
    await t.stop();
  });
  beforeEach(() => t.exporter.reset());

  it('nest a step inside a parallel inside a sequence under the right parent', async () => {
    const flow = sequence(
      step('load', (n: number) => n),
      parallel([step('left', async (n: number) => n + 1), step('right', async (n: number) => n + 2)]),
      step('sum', ([a, b]: [number, number]) => a + b),
    );
    expect(await flow.run(1, { correlationId: 'trace-me', workflow: 'sum-flow' })).toBe(5);
    const spans = t.spans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const root = byName.get('sum-flow')!;
    expect(root).toBeDefined();
    expect(parentId(root)).toBeUndefined();
    for (const name of ['load', 'left', 'right', 'sum']) {
      const s = byName.get(name)!;
      expect(s, name).toBeDefined();
      expect(parentId(s), name).toBe(root.spanContext().spanId);
      expect(s.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(s.attributes['weft.correlation_id']).toBe('trace-me');
      expect(s.attributes['weft.step']).toBe(name);
    }
    expect(root.attributes['weft.correlation_id']).toBe('trace-me');
  });

  it('nests a nested step and user spans under the enclosing step', async () => {
    const inner = step('inner', (n: number) => {
      trace.getTracer('user').startActiveSpan('user-work', (s) => s.end());
      return n;
    });
    const outer = step('outer', async (n: number, ctx) => inner.exec(n, ctx as never));
    await outer.run(1, { workflow: 'nesting' });
    const spans = t.spans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    expect(parentId(byName.get('inner')!)).toBe(byName.get('outer')!.spanContext().spanId);
    expect(parentId(byName.get('user-work')!)).toBe(byName.get('inner')!.spanContext().spanId);
  });

  it('marks a failed step and the run with error status and the recorded exception', async () => {
    const flow = sequence(step('ok', (n: number) => n), step('bad', () => {
      throw new Error('kaput');
    }));
    await expect(flow.run(1, { workflow: 'failing' })).rejects.toThrow('kaput');
    const spans = t.spans();
    for (const name of ['bad', 'failing']) {
      const s = spans.find((x) => x.name === name)!;
      expect(s.status.code, name).toBe(SpanStatusCode.ERROR);
      expect(s.events.some((e) => e.name === 'exception' && e.attributes?.['exception.message'] === 'kaput'), name).toBe(true);
    }
    expect(spans.find((x) => x.name === 'ok')!.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('joins the caller\'s active span', async () => {
    const tracer = trace.getTracer('caller');
    await tracer.startActiveSpan('http-request', async (span) => {
      await step('handled', () => 1).run(undefined, { workflow: 'handler' });
      span.end();
    });
    const spans = t.spans();
    const req = spans.find((s) => s.name === 'http-request')!;
    expect(parentId(spans.find((s) => s.name === 'handler')!)).toBe(req.spanContext().spanId);
  });

  it('never puts secrets on spans', async () => {
    await step('secretive', (_: void, ctx) => ctx.secret('token')!.length).run(undefined, { secrets: { token: 'tok-SECRET-42' }, attributes: { a: 1 } });
    const dump = JSON.stringify(t.spans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })));
    expect(dump).toContain('secretive');
    expect(dump).not.toContain('tok-SECRET-42');
  });
});
