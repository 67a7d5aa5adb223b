import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { definePrimitive, isAbortedError, step } from '@weft/core';
import { parentSpanId as parentId, recordSpans } from '@weft/testing';
import { createFetch, type FetchFn } from './fetch.js';

const tracing = recordSpans();
beforeEach(() => tracing.exporter.reset());
afterEach(() => vi.restoreAllMocks());
afterAll(() => tracing.stop());

/** A fake fetch that records what it was called with. */
function recorder(respond: (input: string | URL | Request, init: RequestInit) => Promise<Response> = async () => new Response('ok')) {
  const calls: { input: string | URL | Request; init: RequestInit }[] = [];
  const fetch: FetchFn = (input, init) => {
    calls.push({ input, init: init ?? {} });
    return respond(input, init ?? {});
  };
  return { fetch, calls };
}

describe('createFetch', () => {
  it("passes the run's signal without combining signals when the caller gave none", async () => {
    const { fetch, calls } = recorder();
    const any = vi.spyOn(AbortSignal, 'any');
    const f = createFetch({ fetch });
    await step('call', (_: void, ctx) => f('http://svc.test/a').then(() => ctx.signal)).run(undefined);
    expect(calls[0]!.init.signal).toBeInstanceOf(AbortSignal);
    expect(any).not.toHaveBeenCalled();
  });

  it("passes the caller's signal untouched outside a run", async () => {
    const { fetch, calls } = recorder();
    const any = vi.spyOn(AbortSignal, 'any');
    const controller = new AbortController();
    await createFetch({ fetch })('http://svc.test/a', { signal: controller.signal });
    expect(calls[0]!.init.signal).toBe(controller.signal);
    expect(any).not.toHaveBeenCalled();
  });

  it("combines the run's and the caller's signals when both exist, so either aborts the request", async () => {
    const { fetch, calls } = recorder();
    const any = vi.spyOn(AbortSignal, 'any');
    const caller = new AbortController();
    await step('call', () => createFetch({ fetch })('http://svc.test/a', { signal: caller.signal })).run(undefined);
    expect(any).toHaveBeenCalledTimes(1);
    const passed = calls[0]!.init.signal!;
    expect(passed.aborted).toBe(false);
    caller.abort(new Error('caller gave up'));
    expect(passed.aborted).toBe(true);
  });

  it('aborts the request when the run is aborted, rejecting with the run abort reason', async () => {
    let started!: () => void;
    const begun = new Promise<void>((r) => (started = r));
    let fetchRejection: unknown;
    const fetch: FetchFn = (_input, init) =>
      new Promise((_resolve, reject) => {
        started();
        init!.signal!.addEventListener('abort', () => reject((fetchRejection = init!.signal!.reason)), { once: true });
      });
    const f = createFetch({ fetch });
    const controller = new AbortController();
    const run = step('call', () => f('http://svc.test/slow')).run(undefined, { signal: controller.signal });
    await begun;
    expect(fetchRejection).toBeUndefined();
    controller.abort();
    await expect(run).rejects.toSatisfy(isAbortedError);
    expect(fetchRejection).toSatisfy(isAbortedError);
  });

  it('writes propagation headers without overwriting the ones the caller set', async () => {
    const { fetch, calls } = recorder();
    const f = createFetch({ fetch });
    await step('call', () => f('http://svc.test/a', { headers: { 'x-correlation-id': 'caller-chosen', accept: 'text/plain' } })).run(undefined, { correlationId: 'run-id' });
    const headers = calls[0]!.init.headers as Headers;
    expect(headers.get('x-correlation-id')).toBe('caller-chosen');
    expect(headers.get('accept')).toBe('text/plain');
    expect(headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("keeps a Request input's own headers", async () => {
    const { fetch, calls } = recorder();
    await step('call', () => createFetch({ fetch })(new Request('http://svc.test/a', { headers: { 'x-api': '1' } }))).run(undefined, { correlationId: 'r' });
    const headers = calls[0]!.init.headers as Headers;
    expect(headers.get('x-api')).toBe('1');
    expect(headers.get('x-correlation-id')).toBe('r');
  });

  it('sends no propagation headers where propagate says no, but still passes the signal', async () => {
    const { fetch, calls } = recorder();
    const f = createFetch({ fetch, propagate: (url) => url.hostname.endsWith('.internal') });
    await step('call', async () => {
      await f('https://api.thirdparty.test/v1');
      await f('http://billing.internal/v1');
    }).run(undefined, { correlationId: 'r' });
    expect(calls[0]!.init.headers).toBeUndefined();
    expect(calls[0]!.init.signal).toBeInstanceOf(AbortSignal);
    expect((calls[1]!.init.headers as Headers).get('x-correlation-id')).toBe('r');
  });

  it('uses an explicit ctx and does not pass it on to the underlying fetch', async () => {
    const { fetch, calls } = recorder();
    const f = createFetch({ fetch });
    const custom = definePrimitive('custom', 'custom', (_: void, ctx) => f('http://svc.test/a', { ctx, method: 'post' }));
    await custom.run(undefined, { correlationId: 'explicit' });
    expect('ctx' in calls[0]!.init).toBe(false);
    expect(calls[0]!.init.method).toBe('post');
    expect((calls[0]!.init.headers as Headers).get('x-correlation-id')).toBe('explicit');
    const client = tracing.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    const runSpan = tracing.spans().find((s) => s.name === 'custom')!;
    expect(parentId(client)).toBe(runSpan.spanContext().spanId);
  });

  it('wraps the request in a CLIENT span that the traceparent points at, without query, credentials or secrets', async () => {
    const { fetch, calls } = recorder(async () => new Response('nope', { status: 503 }));
    const f = createFetch({ fetch });
    await step('call', (_: void, ctx) => f(`http://user:pw@svc.test:8080/keys/${ctx.secret('key')}?token=abc`)).run(undefined, { secrets: { key: 's3cr3t-value' } });
    const client = tracing.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    const stepSpan = tracing.spans().find((s) => s.name === 'call')!;
    expect(client.name).toBe('GET');
    expect(parentId(client)).toBe(stepSpan.spanContext().spanId);
    expect((calls[0]!.init.headers as Headers).get('traceparent')).toBe(`00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
    expect(client.attributes).toMatchObject({ 'http.request.method': 'GET', 'server.address': 'svc.test', 'server.port': 8080, 'http.response.status_code': 503, 'error.type': '503' });
    expect(client.attributes['url.full']).toBe('http://svc.test:8080/keys/[REDACTED]');
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify(tracing.spans().map((s) => [s.attributes, s.events, s.status]))).not.toContain('s3cr3t-value');
  });

  it('records a failed request on the span with secrets redacted, and rethrows the original error', async () => {
    const boom = new TypeError('connect failed for s3cr3t-value');
    const f = createFetch({ fetch: () => Promise.reject(boom) });
    const run = step('call', () => f('http://svc.test/a')).run(undefined, { secrets: { key: 's3cr3t-value' } });
    await expect(run).rejects.toBe(boom);
    const client = tracing.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(client.status).toEqual({ code: SpanStatusCode.ERROR, message: 'connect failed for [REDACTED]' });
    expect(client.events[0]?.attributes?.['exception.message']).toBe('connect failed for [REDACTED]');
  });

  it('turns a synchronous throw of the underlying fetch into a rejection', async () => {
    const f = createFetch({
      fetch: () => {
        throw new Error('sync');
      },
    });
    await expect(f('http://svc.test/a')).rejects.toThrow('sync');
  });

  it('makes no span when span is false', async () => {
    const { fetch } = recorder();
    await step('call', () => createFetch({ fetch, span: false })('http://svc.test/a')).run(undefined);
    expect(tracing.spans().some((s) => s.kind === SpanKind.CLIENT)).toBe(false);
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => createFetch({ fetch: 'nope' as never })).toThrow(/`fetch`/);
    expect(() => createFetch({ propagate: true as never })).toThrow(/`propagate`/);
    expect(() => createFetch({ span: 'yes' as never })).toThrow(/`span`/);
  });
});
