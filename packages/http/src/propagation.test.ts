import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { currentContext, isAbortedError, isTimeoutError, step } from '@weft/core';
import { parentSpanId as parentId, recordSpans } from '@weft/testing';
import { CORRELATION_ID_HEADER } from './headers.js';
import { runWithHeaders } from './extract.js';
import { inject } from './inject.js';
import { weftFetch } from './fetch.js';

/**
 * Two in-process hops over real HTTP on 127.0.0.1: hop A runs a workflow whose step calls hop B with
 * weftFetch; hop B extracts the headers and runs its own workflow.
 */
const tracing = recordSpans();

interface HopBSeen {
  correlationId?: string;
  inboundHeaders?: IncomingMessage['headers'];
  traceId?: string;
}
let seenByB: HopBSeen[] = [];
let slowRequestClosed: Promise<void> | undefined;
let slowRequestArrived: (() => void) | undefined;

const hopBFlow = step('hop-b-work', (input: { n: number }) => {
  seenByB.push({ correlationId: currentContext()?.correlationId, traceId: trace.getActiveSpan()?.spanContext().traceId });
  return { doubled: input.n * 2 };
});

function hopB(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/slow') {
    // Never answers; resolves when the client goes away.
    slowRequestClosed = new Promise((resolve) => res.on('close', () => resolve()));
    slowRequestArrived?.();
    return;
  }
  const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n'));
  runWithHeaders(hopBFlow, { n }, req.headers, { response: res, workflow: 'hop-b' }).then(
    (out) => {
      seenByB.at(-1)!.inboundHeaders = req.headers;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(out));
    },
    () => {
      res.statusCode = 500;
      res.end();
    },
  );
}

let baseB = '';
const callB = step('call-hop-b', async (n: number, ctx) => {
  const res = await weftFetch(`${baseB}/double?n=${n}`);
  return { status: res.status, body: (await res.json()) as { doubled: number }, echoed: res.headers.get(CORRELATION_ID_HEADER), runCorrelationId: ctx.correlationId };
});

function hopA(req: IncomingMessage, res: ServerResponse): void {
  runWithHeaders(callB, 21, req.headers, { response: res, workflow: 'hop-a' }).then(
    (out) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(out));
    },
    (error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    },
  );
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

let a: { server: Server; base: string };
let b: { server: Server; base: string };

beforeAll(async () => {
  b = await listen(hopB);
  a = await listen(hopA);
  baseB = b.base;
});
afterAll(async () => {
  await close(a.server);
  await close(b.server);
  await tracing.stop();
});
beforeEach(() => {
  tracing.exporter.reset();
  seenByB = [];
});

describe('propagation across two HTTP hops', () => {
  it('joins one trace and keeps the correlation ID end to end', async () => {
    // The test itself is the first client: a root span, injected into the request to hop A.
    const root = trace.getTracer('test').startSpan('client-root');
    const headers = context.with(trace.setSpan(context.active(), root), () => inject({ 'x-correlation-id': 'order-42' }, undefined, { overwrite: false }));
    const res = await fetch(`${a.base}/start`, { headers });
    root.end();
    const body = (await res.json()) as { status: number; body: { doubled: number }; echoed: string; runCorrelationId: string };

    expect(res.status).toBe(200);
    expect(body.body.doubled).toBe(42);
    // Correlation: echoed by both hops and seen inside both runs.
    expect(res.headers.get(CORRELATION_ID_HEADER)).toBe('order-42');
    expect(body.runCorrelationId).toBe('order-42');
    expect(body.echoed).toBe('order-42');
    expect(seenByB[0]?.correlationId).toBe('order-42');
    expect(seenByB[0]?.inboundHeaders?.[CORRELATION_ID_HEADER]).toBe('order-42');

    // Trace: one trace ID, and each hop's run span is a child of the span that called it.
    const spans = tracing.spans();
    const traceId = root.spanContext().traceId;
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    const runA = byName('hop-a');
    const stepA = byName('call-hop-b');
    const client = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    const runB = byName('hop-b');
    const stepB = byName('hop-b-work');
    for (const s of [runA, stepA, client, runB, stepB]) expect(s.spanContext().traceId).toBe(traceId);
    expect(parentId(runA)).toBe(root.spanContext().spanId);
    expect(parentId(stepA)).toBe(runA.spanContext().spanId);
    expect(parentId(client)).toBe(stepA.spanContext().spanId);
    expect(parentId(runB)).toBe(client.spanContext().spanId);
    expect(parentId(stepB)).toBe(runB.spanContext().spanId);
    expect(seenByB[0]?.traceId).toBe(traceId);
    // Hop B joined through the header, not through an in-process context.
    expect(seenByB[0]?.inboundHeaders?.traceparent).toBe(`00-${traceId}-${client.spanContext().spanId}-01`);
  });

  it('replaces a malformed inbound correlation ID, never echoes it, and carries the replacement to hop B', async () => {
    const malformed = 'x'.repeat(20) + ' <script>alert(1)</script>';
    const res = await fetch(`${a.base}/start`, { headers: { 'x-correlation-id': malformed } });
    const text = await res.text();
    const echoed = res.headers.get(CORRELATION_ID_HEADER)!;

    expect(res.status).toBe(200);
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    expect(echoed).not.toContain('script');
    expect(text).not.toContain('script');
    expect(JSON.stringify([...res.headers])).not.toContain('script');
    expect(seenByB[0]?.correlationId).toBe(echoed);
    expect((JSON.parse(text) as { echoed: string }).echoed).toBe(echoed);
  });

  it('replaces an inbound correlation ID over 128 characters', async () => {
    const res = await fetch(`${a.base}/start`, { headers: { 'x-correlation-id': 'a'.repeat(129) } });
    await res.arrayBuffer();
    expect(res.headers.get(CORRELATION_ID_HEADER)).not.toBe('a'.repeat(129));
    expect(res.headers.get(CORRELATION_ID_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('aborts the outbound request when the outer run is aborted', async () => {
    const arrived = new Promise<void>((resolve) => (slowRequestArrived = resolve));
    let fetchError: unknown;
    const slow = step('call-slow', async () => {
      try {
        return await weftFetch(`${b.base}/slow`);
      } catch (error) {
        fetchError = error;
        throw error;
      }
    });
    const controller = new AbortController();
    const run = slow.run(undefined, { signal: controller.signal });
    await arrived;
    controller.abort();
    await expect(run).rejects.toSatisfy(isAbortedError);
    // The request itself was cancelled: hop B sees the connection close, and fetch rejected.
    await slowRequestClosed;
    await expect.poll(() => fetchError).toSatisfy(isAbortedError);
  });

  it("aborts the outbound request when the outer run's deadline expires", async () => {
    const arrived = new Promise<void>((resolve) => (slowRequestArrived = resolve));
    let fetchError: unknown;
    const slow = step('call-slow', async () => {
      try {
        return await weftFetch(`${b.base}/slow`);
      } catch (error) {
        fetchError = error;
        throw error;
      }
    });
    const run = slow.run(undefined, { timeout: 200 });
    await arrived;
    await expect(run).rejects.toSatisfy(isTimeoutError);
    await slowRequestClosed;
    await expect.poll(() => fetchError).toSatisfy(isTimeoutError);
  });
});
