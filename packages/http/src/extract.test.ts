import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { propagation, trace } from '@opentelemetry/api';
import { currentContext, definePrimitive, step } from '@weft/core';
import { parentSpanId as parentId, recordSpans } from '@weft/testing';
import { extract, runOptionsFrom, runWithHeaders } from './extract.js';
import { inject } from './inject.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const tracing = recordSpans();
beforeEach(() => tracing.exporter.reset());
afterAll(() => tracing.stop());

/** A plain header record, typed so `inject` returns it with its headers added. */
const headersOf = (headers: Record<string, string>): Record<string, string> => headers;

describe('extract', () => {
  it('reads traceparent, tracestate, baggage and the correlation ID from Node-style headers', () => {
    const out = extract({ traceparent: TRACEPARENT, tracestate: 'rojo=1', baggage: 'tenant=acme', 'x-correlation-id': 'req-1' });
    expect(trace.getSpanContext(out.context)).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, isRemote: true });
    expect(trace.getSpanContext(out.context)?.traceState?.get('rojo')).toBe('1');
    expect(propagation.getBaggage(out.context)?.getEntry('tenant')?.value).toBe('acme');
    expect(out).toMatchObject({ correlationId: 'req-1', correlationIdReplaced: undefined, parent: { spanId: SPAN_ID } });
  });

  it('reads a Fetch Headers object, case-insensitively', () => {
    const out = extract(new Headers({ TraceParent: TRACEPARENT, 'X-Correlation-ID': 'abc:1.2_3' }));
    expect(out.parent?.traceId).toBe(TRACE_ID);
    expect(out.correlationId).toBe('abc:1.2_3');
  });

  it('reads a plain record whose keys are not lower-case', () => {
    expect(extract({ 'X-Correlation-Id': 'req-2' }).correlationId).toBe('req-2');
  });

  it.each([
    ['invalid characters', 'bad id <script>', 'invalid_characters'],
    ['over 128 characters', 'a'.repeat(129), 'too_long'],
  ])('replaces a correlation ID with %s and never returns the raw value', (_label, raw, reason) => {
    const out = extract({ 'x-correlation-id': raw });
    expect(out.correlationId).toMatch(UUID);
    expect(out.correlationId).not.toContain(raw);
    expect(out.correlationIdReplaced).toBe(reason);
  });

  it('accepts a correlation ID of exactly 128 characters', () => {
    const id = 'a'.repeat(128);
    expect(extract({ 'x-correlation-id': id }).correlationId).toBe(id);
  });

  it('generates a correlation ID when the header is absent, without calling it a replacement', () => {
    const out = extract({});
    expect(out.correlationId).toMatch(UUID);
    expect(out.correlationIdReplaced).toBeUndefined();
    expect(out.parent).toBeUndefined();
  });

  it('treats a repeated correlation ID header as malformed', () => {
    expect(extract({ 'x-correlation-id': ['a', 'b'] }).correlationIdReplaced).toBe('invalid_characters');
  });

  it('ignores a malformed traceparent and baggage', () => {
    const out = extract({ traceparent: TRACEPARENT.toUpperCase(), baggage: 'no equals' });
    expect(trace.getSpanContext(out.context)).toBeUndefined();
    expect(propagation.getBaggage(out.context)).toBeUndefined();
  });

  it('skips trace context and baggage when told to', () => {
    const out = extract({ traceparent: TRACEPARENT, baggage: 'a=1' }, { trace: false, baggage: false });
    expect(out.parent).toBeUndefined();
    expect(propagation.getBaggage(out.context)).toBeUndefined();
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => extract({}, { trace: 'yes' as unknown as boolean })).toThrow(/`trace`/);
    expect(() => extract({}, { context: {} as never })).toThrow(/`context`/);
    expect(() => extract(null as never)).toThrow(/`headers`/);
  });
});

describe('runOptionsFrom', () => {
  it('gives the run a validated correlation ID', () => {
    expect(runOptionsFrom({ 'x-correlation-id': 'req-9' })).toEqual({ correlationId: 'req-9' });
    expect(runOptionsFrom({ 'x-correlation-id': 'no spaces allowed' }).correlationId).toMatch(UUID);
  });
});

describe('runWithHeaders', () => {
  it("parents the run's span on the caller's span and carries the correlation ID and baggage", async () => {
    const seen: { correlationId?: string; tenant?: string } = {};
    const flow = step('handle', (n: number) => {
      seen.correlationId = currentContext()?.correlationId;
      seen.tenant = propagation.getActiveBaggage()?.getEntry('tenant')?.value;
      return n + 1;
    });
    const response: Record<string, string> = {};
    const out = await runWithHeaders(flow, 1, { traceparent: TRACEPARENT, baggage: 'tenant=acme', 'x-correlation-id': 'req-7' }, { response, workflow: 'inbound' });
    expect(out).toBe(2);
    expect(seen).toEqual({ correlationId: 'req-7', tenant: 'acme' });
    expect(response['x-correlation-id']).toBe('req-7');
    const runSpan = tracing.spans().find((s) => s.name === 'inbound')!;
    expect(runSpan.spanContext().traceId).toBe(TRACE_ID);
    expect(parentId(runSpan)).toBe(SPAN_ID);
  });

  it('echoes the replacement, not the malformed ID, and the run carries the same replacement', async () => {
    let inRun: string | undefined;
    const flow = step('handle', () => {
      inRun = currentContext()?.correlationId;
    });
    const response = new Headers();
    await runWithHeaders(flow, undefined, { 'x-correlation-id': 'evil\tvalue' }, { response });
    expect(response.get('x-correlation-id')).toMatch(UUID);
    expect(response.get('x-correlation-id')).toBe(inRun);
  });

  it('lets an explicit correlationId option win, validated like the header', async () => {
    const flow = step('handle', () => currentContext()?.correlationId);
    expect(await runWithHeaders(flow, undefined, { 'x-correlation-id': 'header' }, { correlationId: 'explicit' })).toBe('explicit');
    const response: Record<string, string> = {};
    const id = await runWithHeaders(flow, undefined, {}, { correlationId: 'not valid!', response });
    expect(id).toMatch(UUID);
    expect(response['x-correlation-id']).toBe(id);
  });

  it('starts a new trace when the traceparent is malformed', async () => {
    await runWithHeaders(step('handle', () => 1), undefined, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01-x` }, { workflow: 'fresh' });
    const runSpan = tracing.spans().find((s) => s.name === 'fresh')!;
    expect(runSpan.spanContext().traceId).not.toBe(TRACE_ID);
    expect(parentId(runSpan)).toBeUndefined();
  });
});

describe('inject', () => {
  it("writes the step span's traceparent, the baggage and the run's correlation ID inside a step", async () => {
    const flow = step('call', () => ({ headers: inject(headersOf({})), spanId: trace.getActiveSpan()?.spanContext().spanId }));
    const { headers, spanId } = await runWithHeaders(flow, undefined, { traceparent: TRACEPARENT, baggage: 'tenant=acme', 'x-correlation-id': 'req-3' });
    expect(headers.traceparent).toBe(`00-${TRACE_ID}-${spanId}-01`);
    expect(headers.baggage).toBe('tenant=acme');
    expect(headers['x-correlation-id']).toBe('req-3');
  });

  it("uses an explicit context's run span from a primitive that runs outside any step", async () => {
    const custom = definePrimitive('custom', 'custom', async (_: void, ctx) => inject(new Headers(), ctx));
    const headers = await custom.run(undefined, { correlationId: 'req-4', workflow: 'explicit' });
    const runSpan = tracing.spans().find((s) => s.name === 'explicit')!;
    expect(headers.get('traceparent')).toBe(`00-${runSpan.spanContext().traceId}-${runSpan.spanContext().spanId}-01`);
    expect(headers.get('x-correlation-id')).toBe('req-4');
  });

  it("passes an unsampled caller's trace context on unchanged, with no spans recorded", async () => {
    const unsampled = `00-${TRACE_ID}-${SPAN_ID}-00`;
    const flow = step('call', () => inject(headersOf({})));
    const headers = await runWithHeaders(flow, undefined, { traceparent: unsampled });
    expect(headers.traceparent).toBe(unsampled);
    expect(tracing.spans()).toEqual([]);
  });

  it('writes nothing outside a run when no span is active', () => {
    expect(inject({})).toEqual({});
  });

  it('keeps headers the caller set when overwrite is false', async () => {
    const flow = step('call', () => inject(headersOf({ 'X-Correlation-Id': 'mine' }), undefined, { overwrite: false }));
    const headers = await flow.run(undefined, { correlationId: 'run' });
    expect(headers['X-Correlation-Id']).toBe('mine');
    expect(headers['x-correlation-id']).toBeUndefined();
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('replaces a differently-cased header in a plain record when overwriting', async () => {
    const flow = step('call', () => inject(headersOf({ 'X-Correlation-Id': 'stale' })));
    expect(await flow.run(undefined, { correlationId: 'fresh' })).toMatchObject({ 'x-correlation-id': 'fresh' });
    expect(Object.keys(await flow.run(undefined, { correlationId: 'fresh' })).filter((k) => k.toLowerCase() === 'x-correlation-id')).toHaveLength(1);
  });

  it('writes to a Node ServerResponse-like target through setHeader', async () => {
    const set: Record<string, string> = {};
    const target = { setHeader: (n: string, v: string) => void (set[n] = v), hasHeader: (n: string) => n in set };
    await step('call', () => inject(target)).run(undefined, { correlationId: 'req-5' });
    expect(set['x-correlation-id']).toBe('req-5');
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => inject({}, undefined, { baggage: 1 as unknown as boolean })).toThrow(/`baggage`/);
  });
});
