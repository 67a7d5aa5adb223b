import { readFileSync } from 'node:fs';
import { CircuitBreaker, step, ValidationError, type WeftEvent } from '@weft/core';
import { onEvent } from '@weft/core';
import { parentSpanId, recordSpans } from '@weft/testing';
import { hasRedisServer, describeWith, RedisServer } from '@weft/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaHandler } from './handler.js';
import { LambdaState, type BreakerStateStore } from './state.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const v2 = fixture('apigateway-v2');
const v1 = fixture('apigateway-v1');
/** A Lambda context with `ms` left. */
const ctx = (ms = 10_000) => ({ getRemainingTimeInMillis: () => ms, functionName: 'answer', awsRequestId: 'req-1' });
const answerStep = () => step({ name: 'answer', input: z.object({ question: z.string().min(1) }) }, ({ question }) => ({ answer: `${question.length} characters` }));

interface Result {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

describe('lambdaHandler on API Gateway events', () => {
  it('answers a payload v2 event, echoing the correlation ID and joining the caller trace', async () => {
    const lines: string[] = [];
    const seen: WeftEvent[] = [];
    const off = onEvent((e) => seen.push(e));
    const handler = lambdaHandler(answerStep(), { metrics: { namespace: 'Test', write: (l) => lines.push(l) } });
    const result = (await handler(v2, ctx())) as Result;
    off();
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ answer: '20 characters' });
    expect(result.headers['x-correlation-id']).toBe('order-7f3a-2026');
    expect(seen.find((e) => e.type === 'run.started')?.correlationId).toBe('order-7f3a-2026');
    // One EMF line per invocation: no user data, the first one a cold start.
    const metrics = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(metrics).toMatchObject({ Workflow: 'answer', Outcome: 'succeeded', Runs: 1, ColdStart: 1, StatusCode: 200 });
    expect((metrics._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0]!.Namespace).toBe('Test');
    expect(lines[0]).not.toContain('sky');
    await handler(v2, ctx());
    expect(JSON.parse(lines[1]!)).toMatchObject({ ColdStart: 0 });
  });

  it("makes the run's span a child of the caller's traceparent, and flushes before returning", async () => {
    const tracing = recordSpans();
    try {
      let flushedSpans = -1;
      const handler = lambdaHandler(answerStep(), { metrics: false, flush: () => Promise.resolve(void (flushedSpans = tracing.spans().length)) });
      await handler(v2, ctx());
      const spans = tracing.spans();
      expect(spans.length).toBeGreaterThan(0);
      expect(spans.every((s) => s.spanContext().traceId === '4bf92f3577b34da6a3ce929d0e0e4736')).toBe(true);
      // The outermost span (the run) is the child of the caller's span from the fixture's traceparent.
      expect(spans.filter((s) => parentSpanId(s) === '00f067aa0ba902b7').map((s) => s.name)).toEqual(['answer']);
      expect(flushedSpans).toBeGreaterThan(0); // the run's span had ended when flush ran
    } finally {
      await tracing.stop();
    }
  });

  it('answers a REST (v1) event with a base64 body, generating a correlation ID when none is sent', async () => {
    const result = (await lambdaHandler(answerStep(), { metrics: false })(v1, ctx())) as Result;
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ answer: '21 characters' });
    expect(result.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a malformed body 400, and an input the schema refuses 400 with the zod-derived issues', async () => {
    const handler = lambdaHandler(answerStep(), { metrics: false });
    const malformed = (await handler({ ...v2, body: '{"question": ' }, ctx())) as Result;
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ error: 'invalid_json', correlationId: 'order-7f3a-2026' });
    const invalid = (await handler({ ...v2, body: '{"question": ""}' }, ctx())) as Result;
    expect(invalid.statusCode).toBe(400);
    const body = JSON.parse(invalid.body) as { error: string; issues: Array<{ path: string; message: string }> };
    expect(body.error).toBe('invalid_request');
    expect(body.issues[0]!.path).toBe('question');
    expect(body.issues[0]!.message).toMatch(/at least 1|too small|>=1/i);
  });

  it("cuts a retry short at the invocation's deadline, answering without waiting out the backoff", async () => {
    let calls = 0;
    const flaky = step('flaky', () => {
      calls++;
      throw new Error('upstream 503');
    }).retry({ retries: 5, minDelay: 2_000, jitter: 'none' });
    const lines: string[] = [];
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // 1.5 s left, 0.5 s kept back: the 2 s backoff cannot fit, so the retry stops after one attempt.
    const result = (await lambdaHandler(flaky, { safetyMarginMs: 500, metrics: { write: (l) => lines.push(l) } })({ ...v2, body: '{}' }, ctx(1_500))) as Result;
    expect(calls).toBe(1);
    expect([503, 504]).toContain(result.statusCode);
    expect(result.body).not.toContain('upstream 503');
    expect(JSON.parse(lines[0]!)).toMatchObject({ Outcome: 'failed', Retries: 0 });
    // Nothing outlives the invocation: no timer is left behind.
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  it('answers 504 at once when no time is left, without running the workflow', async () => {
    let calls = 0;
    const s = step('s', () => ++calls);
    const result = (await lambdaHandler(s, { metrics: false })({ ...v2, body: '{}' }, ctx(400))) as Result;
    expect(result.statusCode).toBe(504);
    expect(calls).toBe(0);
  });

  it('runs a plain event as the input and returns the output; a failure is thrown', async () => {
    const double = step('double', (n: number) => n * 2);
    expect(await lambdaHandler(double, { metrics: false })(21, ctx())).toBe(42);
    const failing = step('failing', (): number => {
      throw new ValidationError('failing', 'input', []);
    });
    await expect(lambdaHandler(failing, { metrics: false })({ n: 1 }, ctx())).rejects.toThrow();
  });

  it('flushes before returning', async () => {
    let flushed = 0;
    await lambdaHandler(answerStep(), { metrics: false, flush: async () => void flushed++ })(v2, ctx());
    expect(flushed).toBe(1);
  });

  it('throws a TypeError naming a bad option', () => {
    expect(() => lambdaHandler({} as never)).toThrow(/`workflow`/);
    expect(() => lambdaHandler(answerStep(), { safetyMarginMs: -1 })).toThrow(/`safetyMarginMs`/);
    expect(() => lambdaHandler(answerStep(), { flush: 'yes' as never })).toThrow(/`flush`/);
  });
});

/** Two containers: each its own breaker object and state, as two cold starts would have. */
async function twoContainers(makeState: () => Promise<LambdaState>): Promise<{ first: Result; second: Result; calls: number }> {
  let calls = 0;
  const container = async () => {
    const state = await makeState();
    const breaker = state.breaker(new CircuitBreaker({ name: 'provider', threshold: 1, openMs: 60_000 }));
    const provider = step('provider', () => {
      calls++;
      throw new Error('provider down');
    }).circuitBreaker(breaker);
    return { state, handler: lambdaHandler(provider, { state, metrics: false }) };
  };
  const a = await container();
  const b = await container();
  try {
    const first = (await a.handler({ ...v2, body: '{}' }, ctx())) as Result;
    const second = (await b.handler({ ...v2, body: '{}' }, ctx())) as Result;
    return { first, second, calls };
  } finally {
    await a.state.close();
    await b.state.close();
  }
}

describe('state across invocations', () => {
  it('carries an open breaker to another container through a store of yours (no Redis)', async () => {
    const table = new Map<string, string>();
    const breakerStore: BreakerStateStore = { get: (k) => Promise.resolve(table.get(k)), set: (k, v) => Promise.resolve(void table.set(k, v)) };
    const { first, second, calls } = await twoContainers(() => LambdaState.create({ redisUrl: '', breakerStore }));
    expect(first.statusCode).toBe(503);
    expect(second.statusCode).toBe(503);
    expect(calls).toBe(1); // the second container never called the provider: its breaker was restored open
    expect(JSON.parse(table.get('provider')!)).toMatchObject({ state: 'open' });
  });

  it('keeps state in memory only without Redis or a store: a second container starts closed', async () => {
    const { calls } = await twoContainers(() => LambdaState.create({ redisUrl: '' }));
    expect(calls).toBe(2);
  });

  it('keeps going when the breaker store fails, and counts the failures', async () => {
    const broken: BreakerStateStore = { get: () => Promise.reject(new Error('down')), set: () => new Promise(() => undefined) };
    const state = await LambdaState.create({ redisUrl: '', breakerStore: broken, storeTimeoutMs: 20 });
    state.breaker(new CircuitBreaker({ name: 'p', threshold: 1, openMs: 1_000 }));
    const result = (await lambdaHandler(answerStep(), { state, metrics: false })(v2, ctx())) as Result;
    expect(result.statusCode).toBe(200);
    expect(state.storeErrors).toBe(2);
  });
});

describeWith('the redis-server binary on the PATH', 'state across invocations through Redis', hasRedisServer(), () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.launch();
  });
  afterAll(async () => {
    await redis?.kill();
  });

  it('shares a breaker between two consecutive invocations in two containers, and gives budgets and rate limits Redis stores', async () => {
    const prefix = `lambda-test-${Date.now()}`;
    const { first, second, calls } = await twoContainers(() => LambdaState.create({ redisUrl: redis.url, prefix }));
    expect(first.statusCode).toBe(503);
    expect(second.statusCode).toBe(503);
    expect(calls).toBe(1);
    const state = await LambdaState.create({ redisUrl: redis.url });
    try {
      expect(state.mode).toBe('redis');
      expect(state.budgetStore).toBeDefined();
      expect(state.rateLimitStore).toBeDefined();
    } finally {
      await state.close();
    }
  });
});
