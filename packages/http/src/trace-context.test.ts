import { describe, it, expect } from 'vitest';
import { TraceFlags } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent, parseTracestate } from './trace-context.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('parseTraceparent', () => {
  it('parses a valid version-00 header into a remote span context', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  it('keeps the sampled flag off when the caller did not sample', () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.traceFlags).toBe(0);
  });

  it('tolerates optional whitespace around the value', () => {
    expect(parseTraceparent(` ${VALID}\t`)?.traceId).toBe(TRACE_ID);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['an all-zero trace ID', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero parent ID', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['version 00 with trailing fields', `${VALID}-extra`],
    ['a short trace ID', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['a non-hex flag', `00-${TRACE_ID}-${SPAN_ID}-0x`],
    ['two joined headers', `${VALID}, ${VALID}`],
    ['a future version followed by garbage without a dash', `01-${TRACE_ID}-${SPAN_ID}-01x`],
  ])('rejects %s', (_label, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('parses a future version by its version-00 prefix', () => {
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-holds`)?.spanId).toBe(SPAN_ID);
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01`)?.spanId).toBe(SPAN_ID);
  });

  it('attaches a valid tracestate and drops a malformed one', () => {
    expect(parseTraceparent(VALID, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')?.traceState?.get('congo')).toBe('t61rcWkgMzE');
    expect(parseTraceparent(VALID, 'Rojo=1')?.traceState).toBeUndefined();
  });

  it('round-trips through formatTraceparent', () => {
    const parsed = parseTraceparent(VALID)!;
    expect(formatTraceparent(parsed)).toBe(VALID);
  });
});

describe('parseTracestate', () => {
  it('normalises whitespace and skips empty members', () => {
    expect(parseTracestate(' rojo=00f067aa0ba902b7 ,, congo=t61rcWkgMzE ')).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('accepts multi-tenant keys', () => {
    expect(parseTracestate('fw529a3039@dt=ZmY')).toBe('fw529a3039@dt=ZmY');
  });

  it.each([
    ['an upper-case key', 'Rojo=1'],
    ['a duplicate key', 'a=1,a=2'],
    ['an equals sign in a value', 'a=b=c'],
    ['a member without a value', 'a'],
    ['a control character in a value', 'a=b\u0001'],
    ['more than 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('rejects %s', (_label, header) => {
    expect(parseTracestate(header)).toBeUndefined();
  });

  it('accepts exactly 32 members', () => {
    expect(parseTracestate(Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','))?.split(',')).toHaveLength(32);
  });
});
