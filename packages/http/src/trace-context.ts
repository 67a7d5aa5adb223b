import { createTraceState, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version keeps the version-00 prefix and may append `-` and more fields.
const TRACEPARENT_FUTURE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const INVALID_TRACE_ID = '00000000000000000000000000000000';
const INVALID_SPAN_ID = '0000000000000000';

/** Longest `traceparent` or `tracestate` value this module looks at; longer ones are ignored. */
const MAX_HEADER_LENGTH = 8192;
/** The W3C limit on `tracestate` list members. */
export const MAX_TRACESTATE_MEMBERS = 32;

// tracestate keys and values, per W3C Trace Context level 1, section 3.3.1.
const TRACESTATE_KEY = /^(?:[a-z][a-z0-9_*/-]{0,255}|[a-z0-9][a-z0-9_*/-]{0,240}@[a-z][a-z0-9_*/-]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Parses a W3C `traceparent` header strictly (W3C Trace Context level 1): lower-case hex, version
 * not `ff`, trace and parent IDs not all zeros, exactly 55 characters for version `00`. Returns a
 * remote span context, or undefined when the header is absent or malformed (the trace then starts
 * afresh, as the specification requires).
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf9…', spanId: '00f0…', traceFlags: 1, isRemote: true }
 * ```
 */
export function parseTraceparent(value: string | undefined, tracestate?: string): SpanContext | undefined {
  if (value === undefined || value.length > MAX_HEADER_LENGTH) return undefined;
  const header = trimOws(value);
  let traceId: string;
  let spanId: string;
  let flags: string;
  const m00 = TRACEPARENT_00.exec(header);
  if (m00) {
    traceId = m00[1]!;
    spanId = m00[2]!;
    flags = m00[3]!;
  } else {
    const m = TRACEPARENT_FUTURE.exec(header);
    // Version 00 must match exactly; ff is forbidden; any other version is parsed by its 00 prefix.
    if (!m || m[1] === '00' || m[1] === 'ff') return undefined;
    traceId = m[2]!;
    spanId = m[3]!;
    flags = m[4]!;
  }
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  const spanContext: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
  const state = tracestate === undefined ? undefined : parseTracestate(tracestate);
  if (state !== undefined) spanContext.traceState = createTraceState(state);
  return spanContext;
}

/**
 * Validates a W3C `tracestate` header (repeated headers joined by `,`): at most 32 list members,
 * valid keys and values, no duplicate keys. Returns the normalised header (empty members dropped),
 * or undefined when it is empty or malformed, in which case the whole header is dropped.
 *
 * @example
 * ```ts
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE'); // 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'
 * parseTracestate('Bad=1'); // undefined
 * ```
 */
export function parseTracestate(value: string): string | undefined {
  if (value.length > MAX_HEADER_LENGTH) return undefined;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = trimOws(raw);
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(val) || keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
    if (members.length > MAX_TRACESTATE_MEMBERS) return undefined;
  }
  return members.length > 0 ? members.join(',') : undefined;
}

/**
 * Formats a span context as a version-00 `traceparent` header value.
 *
 * @example
 * ```ts
 * formatTraceparent(trace.getSpanContext(context.active())!);
 * ```
 */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Removes HTTP optional whitespace (spaces and tabs) around a value. */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}
