import { METHODS } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { buildApp } from '@weft/gateway/dist/app.js';
import { loadConfig } from '@weft/gateway/dist/config.js';
import type { FastifyInstance, InjectOptions } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'fuzz-key-0123456789';
const CASES = 10_000;

/**
 * Every hostile value carries a marker such as `zqx1a2bqxz`. The gateway may answer it back to the
 * caller, but a marker must never show up in a log line, a metric label or a span name.
 */
const marker = fc.nat({ max: 2 ** 31 - 1 }).map((n) => `zqx${n.toString(36)}qxz`);
const MARKER = /zqx[0-9a-z]+qxz/;

/** Text that needs escaping everywhere: unicode, control characters, quotes, markup, template syntax. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('\u0000', '\r\n', '\n', '\t', '"', "'", '\\', '<script>alert(1)</script>', '${process.exit()}', '%0d%0a', '../../etc/passwd', '\u202e', '\ud800', '💥', 'é', '{{7*7}}', "' OR 1=1 --", 'A'.repeat(300)),
);

/** A malformed or malicious correlation ID: always invalid (too long, or a character outside [A-Za-z0-9._:-]), so never echoed. */
const badCorrelationId = fc.tuple(marker, nasty, fc.constantFrom(' ', '\n', '"', '<', '/', '%', 'é', '\u0000', '$', '{', ';', '\u2028'), fc.nat({ max: 3 })).map(([m, junk, bad, kind]) => {
  if (kind === 0) return `${m}${'a'.repeat(200)}`; // oversized
  if (kind === 1) return `${m}${'x'.repeat(20_000)}`; // very oversized
  return `${junk}${bad}${m}${bad}`; // malicious characters
});

/** A header value with unicode and control characters around a marker. */
const nastyHeader = fc.tuple(nasty, marker, nasty).map(([a, m, b]) => `${a}${m}${b}`);

const auth = fc.oneof(
  { weight: 7, arbitrary: fc.constant<Record<string, string | string[]>>({ authorization: `Bearer ${KEY}` }) },
  { weight: 1, arbitrary: fc.constant<Record<string, string | string[]>>({ 'x-api-key': KEY }) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constant<Record<string, string | string[]>>({}),
      fc.constant<Record<string, string | string[]>>({ authorization: 'Bearer' }),
      fc.constant<Record<string, string | string[]>>({ authorization: `bearer  ${KEY}  ` }),
      nastyHeader.map((v) => ({ authorization: `Bearer ${v}` })),
      nastyHeader.map((v) => ({ authorization: `Basic ${v}` })),
      nastyHeader.map((v) => ({ authorization: v })),
      nastyHeader.map((v) => ({ 'x-api-key': v })),
      nastyHeader.map((v) => ({ 'x-api-key': [v, KEY] })),
      marker.map((m) => ({ authorization: `Bearer ${m}${'k'.repeat(5_000)}` })),
    ),
  },
);

const goodQuestion = fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), nasty).filter((q) => q.trim().length > 0 && q.length <= 4_000);
const tier = fc.constantFrom('economy', 'standard', 'premium');

/** A body: valid ones, wrong types, extra keys, malformed JSON, huge ones. Returns the payload and its content type. */
const body: fc.Arbitrary<{ payload: string | undefined; contentType: string | undefined }> = fc.oneof(
  // valid (the answer route runs end to end)
  { weight: 2, arbitrary: fc.record({ question: goodQuestion, tier }, { requiredKeys: ['question'] }).map((b) => ({ payload: JSON.stringify(b), contentType: 'application/json' })) },
  // wrong types
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(marker), fc.dictionary(marker, marker, { maxKeys: 3 }), fc.constant(''), fc.constant('   '), marker.map((m) => `${m}${'q'.repeat(4_001)}`)),
        fc.oneof(fc.constant(undefined), tier, fc.integer(), marker, fc.array(tier)),
      )
      .map(([question, t]) => ({ payload: JSON.stringify(t === undefined ? { question } : { question, tier: t }), contentType: 'application/json' })),
  },
  // unknown keys, prototype pollution attempts, wrong top-level types
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.tuple(goodQuestion, marker, nasty).map(([q, m, v]) => ({ payload: JSON.stringify({ question: q, [m]: v }), contentType: 'application/json' })),
      marker.map((m) => ({ payload: `{"question":"hi","__proto__":{"polluted":"${m}"},"constructor":{"prototype":{"x":"${m}"}}}`, contentType: 'application/json' })),
      fc.oneof(fc.array(marker), marker.map((m) => JSON.stringify(m)), fc.integer(), fc.constant(null)).map((v) => ({ payload: typeof v === 'string' ? v : JSON.stringify(v), contentType: 'application/json' })),
    ),
  },
  // malformed JSON
  {
    weight: 3,
    arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength: 60 }), marker, fc.constantFrom('{"question":', '{', '[', '{"question": "a",}', '{"question": nul', '\ufeff{"question":"x"', '{"question":"\\u00"}', '')).map(([junk, m, start]) => ({
      payload: `${start}${m}${junk}`,
      contentType: 'application/json',
    })),
  },
  // huge bodies: over the 64 KiB limit, or just under it with an over-long question
  {
    weight: 1,
    arbitrary: fc.tuple(marker, fc.integer({ min: 64 * 1024 - 100, max: 200 * 1024 })).map(([m, size]) => ({ payload: JSON.stringify({ question: `${m}${'x'.repeat(size)}` }), contentType: 'application/json' })),
  },
  // wrong or missing content types
  {
    weight: 1,
    arbitrary: fc.tuple(marker, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json; charset=zqx', undefined), nasty).map(([m, ct, junk]) => ({
      payload: `question=${m}${junk}`,
      contentType: ct === 'application/json; charset=zqx' ? `application/json; charset=${m}` : ct,
    })),
  },
  { weight: 1, arbitrary: fc.constant({ payload: undefined, contentType: undefined }) },
);

/** Extra headers: bad correlation IDs, valid ones, trace context and baggage garbage, unicode names. */
const extraHeaders = fc.record(
  {
    'x-correlation-id': fc.oneof({ weight: 3, arbitrary: badCorrelationId }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/).filter((id) => !MARKER.test(id)) }, { weight: 1, arbitrary: fc.array(badCorrelationId, { minLength: 2, maxLength: 3 }) }),
    traceparent: fc.oneof(nastyHeader, marker.map((m) => `00-${m}-b7ad6b7169203331-01`), fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')),
    tracestate: nastyHeader,
    baggage: fc.oneof(nastyHeader, marker.map((m) => `user=${m},${m}=1`), marker.map((m) => `k=${m};p=${'v'.repeat(9_000)}`)),
    'user-agent': nastyHeader,
    'x-forwarded-for': nastyHeader,
  },
  { requiredKeys: [] },
);

const request: fc.Arbitrary<InjectOptions & { readonly label: string }> = fc
  .tuple(
    fc.oneof({ weight: 12, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom(...METHODS.filter((m) => m !== 'CONNECT')) }),
    fc.oneof({ weight: 12, arbitrary: fc.constant('/v1/answer') }, { weight: 1, arbitrary: marker.map((m) => `/v1/answer?${m}=1`) }, { weight: 1, arbitrary: marker.map((m) => `/v1/${m}`) }),
    auth,
    body,
    extraHeaders,
  )
  .map(([method, url, authHeaders, b, extra]) => {
    const headers: Record<string, string | string[]> = { ...extra, ...authHeaders };
    if (b.contentType !== undefined) headers['content-type'] = b.contentType;
    const label = `${method} ${url.replace(MARKER, '<m>')} auth=${Object.keys(authHeaders).join('+') || 'none'} ct=${b.contentType ?? 'none'} bytes=${b.payload?.length ?? 0}`;
    return { method: method as InjectOptions['method'], url, headers, ...(b.payload === undefined || method === 'GET' || method === 'HEAD' ? {} : { payload: b.payload }), label };
  });

interface Violation {
  readonly kind: string;
  readonly request: string;
  readonly detail: string;
}

describe(`gateway fuzz (${CASES.toLocaleString('en')} fast-check cases through Fastify inject)`, () => {
  let app: FastifyInstance;
  const logs: string[] = [];
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    const config = loadConfig({
      PORT: '0',
      LOG_LEVEL: 'info',
      GATEWAY_API_KEYS: `fuzz:${KEY}`,
      RATE_LIMIT_RPS: '1000000',
      RATE_LIMIT_BURST: '1000000',
      DAILY_BUDGET_USD: '1000000',
      PROVIDER_RETRIES: '0',
    });
    app = await buildApp(config, { env: {}, logDestination: { write: (line: string) => void logs.push(line) } });
  });
  afterAll(async () => {
    await app?.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('answers every hostile request with a 4xx or a 200, never a 5xx or a crash, and never lets an input value into logs, metric labels or span names', async () => {
    const violations: Violation[] = [];
    const statuses: Record<string, number> = {};
    const add = (kind: string, req: { label: string }, detail: string): void => {
      violations.push({ kind, request: req.label, detail: detail.slice(0, 600) });
    };

    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const logsBefore = logs.length;
        exporter.reset();
        const { label: _label, ...options } = req;
        let res;
        try {
          res = await app.inject(options);
        } catch (error) {
          add('inject threw', req, String((error as Error).stack ?? error));
          return true;
        }
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 500) add(`status ${res.statusCode}`, req, res.body);
        const id = res.headers['x-correlation-id'];
        if (typeof id !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(id)) add('correlation id echoed unsafely', req, String(id));
        if (res.statusCode >= 400 && options.method !== 'HEAD') {
          let parsed: { error?: unknown; message?: unknown; correlationId?: unknown } | undefined;
          try {
            parsed = JSON.parse(res.body) as typeof parsed;
          } catch {
            add('error body is not JSON', req, res.body);
          }
          if (parsed !== undefined && (typeof parsed.error !== 'string' || !/^[a-z_]+$/.test(parsed.error) || typeof parsed.message !== 'string' || parsed.message.length === 0 || parsed.correlationId !== id)) {
            add('error body lacks error/message/correlationId', req, res.body);
          }
        }
        for (const line of logs.slice(logsBefore)) {
          if (MARKER.test(line)) {
            const parsed = JSON.parse(line) as { msg?: string; event?: string };
            add(`input in a log line (${parsed.event ?? parsed.msg ?? 'unknown'})`.replace(MARKER, '<m>').slice(0, 120), req, line);
          }
        }
        for (const span of exporter.getFinishedSpans()) if (MARKER.test(span.name)) add('input in a span name', req, span.name);
        return true;
      }),
      { numRuns: CASES },
    );

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    for (const line of metrics.body.split('\n')) if (MARKER.test(line)) add('input in a metric label', { label: 'GET /metrics' }, line);
    // Still alive and still answering.
    const after = await app.inject({ method: 'POST', url: '/v1/answer', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, payload: { question: 'Still there after the fuzz?' } });
    expect(after.statusCode).toBe(200);

    // Group by kind, with one example each, so a failure says what broke and how to reproduce it.
    const byKind = new Map<string, { count: number; example: Violation }>();
    for (const v of violations) {
      const seen = byKind.get(v.kind);
      if (seen) seen.count++;
      else byKind.set(v.kind, { count: 1, example: v });
    }
    console.info(`[fuzz] ${CASES} cases; statuses ${JSON.stringify(statuses)}; violations ${violations.length}`);
    expect(Object.fromEntries(byKind)).toEqual({});
    expect(Object.keys(statuses).every((s) => Number(s) < 500)).toBe(true);
  }, 240_000);
});
