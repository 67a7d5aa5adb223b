import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenUrl } from '@weft/service-kit';
import { RedisServer, redisServerGate } from '@weft/test-support';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

const KEY = 'test-key-main-0001';
const TIGHT = 'test-key-tight-0001';

/** Boots a gateway in demo mode on a random port; returns its URL. */
async function boot(env: Record<string, string> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    GATEWAY_API_KEYS: `main:${KEY},tight:${TIGHT}:0.01`,
    RATE_LIMIT_RPS: '1000',
    RATE_LIMIT_BURST: '1000',
    PROVIDER_RETRIES: '0',
    ...env,
  });
  const app = await buildApp(config, { env: {} });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: listenUrl(app.server.address(), '127.0.0.1', 0) };
}

function ask(url: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }): Promise<Response> {
  return fetch(`${url}/v1/answer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

let questionCounter = 0;
/** A question nobody asked before, so the cache never answers it. */
const fresh = (): string => `What is the answer to question ${++questionCounter} at ${Date.now()}?`;

describe('gateway (demo mode, in-memory stores)', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await boot());
  });
  afterAll(async () => {
    await app?.close();
  });
  const sim = () => app.gateway.simulated!;
  const allUp = () => {
    for (const name of sim().providers) sim().configure(name, { down: false });
    for (const breaker of app.gateway.workflow.breakers.values()) breaker.reset();
  };

  it('answers a question with the provider, the cost and the correlation ID, and echoes the headers', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await ask(url, { question: fresh(), tier: 'standard' }, { authorization: `Bearer ${KEY}`, 'x-correlation-id': 'req-happy-1', traceparent });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe('req-happy-1');
    expect(res.headers.get('traceparent')).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-0[01]$/);
    expect(res.headers.get('x-response-time')).toMatch(/^\d+(\.\d+)?ms$/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ provider: 'beta', model: 'gpt-4.1-mini', cached: false, correlationId: 'req-happy-1' });
    expect(body.answer).toEqual(expect.stringContaining('Beta'));
    expect((body.cost as { amount: number }).amount).toBeGreaterThan(0);
    // Exact money: the amount is a whole number of nano-dollars, never a float sum like 0.000053200000000000006.
    expect(JSON.stringify((body.cost as { amount: number }).amount)).toMatch(/^\d+(\.\d{1,9})?(e-\d+)?$/);
    expect(Number.isInteger(Math.round((body.cost as { amount: number }).amount * 1e9)) && Math.abs((body.cost as { amount: number }).amount * 1e9 - Math.round((body.cost as { amount: number }).amount * 1e9)) < 1e-6).toBe(true);
  });

  it('routes by tier: economy to the cheapest provider, premium to the best', async () => {
    const economy = (await (await ask(url, { question: fresh(), tier: 'economy' })).json()) as { provider: string };
    const premium = (await (await ask(url, { question: fresh(), tier: 'premium' })).json()) as { provider: string };
    expect([economy.provider, premium.provider]).toEqual(['alpha', 'gamma']);
  });

  it('serves a repeated question from the cache at no cost', async () => {
    const question = fresh();
    await ask(url, { question, tier: 'economy' });
    const body = (await (await ask(url, { question: `  ${question.toUpperCase()} `, tier: 'economy' })).json()) as { cached: boolean; cost: { amount: number } };
    expect(body.cached).toBe(true);
    expect(body.cost.amount).toBe(0);
  });

  it('falls back to another provider when the routed one is down', async () => {
    try {
      sim().configure('beta', { down: true });
      const res = await ask(url, { question: fresh(), tier: 'standard' });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { provider: string };
      expect(body.provider).toBe('gamma');
    } finally {
      allUp();
    }
  });

  it('answers 503 with the correlation ID when every provider is down', async () => {
    try {
      for (const name of sim().providers) sim().configure(name, { down: true });
      const res = await ask(url, { question: fresh() }, { authorization: `Bearer ${KEY}`, 'x-correlation-id': 'req-all-down' });
      expect(res.status).toBe(503);
      expect(res.headers.get('x-correlation-id')).toBe('req-all-down');
      const body = (await res.json()) as Record<string, string>;
      expect(body).toMatchObject({ error: 'providers_unavailable', correlationId: 'req-all-down' });
      // What the providers said stays in the logs: the client gets a generic message.
      expect(body.message).toBe('No provider could answer; try again shortly.');
    } finally {
      allUp();
    }
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await ask(url, '{"question":');
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('invalid_json');
    expect(body.correlationId).toBe(res.headers.get('x-correlation-id'));
  });

  it("answers 400 with zod's message for a body that breaks the schema", async () => {
    const res = await ask(url, { question: '', tier: 'gold' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; issues: Array<{ path: string }> };
    expect(body.error).toBe('invalid_request');
    expect(body.message).toMatch(/question: Too small/);
    expect(body.message).toMatch(/tier: Invalid option/);
    expect(body.issues.map((i) => i.path).sort()).toEqual(['question', 'tier']);
  });

  it('answers 401 for a missing or unknown API key', async () => {
    const missing = await ask(url, { question: 'hi' }, {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await missing.json()) as { message: string }).message).toMatch(/Missing API key/);
    const wrong = await ask(url, { question: 'hi' }, { 'x-api-key': 'not-a-real-key-123' });
    expect(wrong.status).toBe(401);
  });

  it('answers 402 with a clear message once a key has spent its daily budget', async () => {
    let res: Response | undefined;
    let served = 0;
    for (let i = 0; i < 20; i++) {
      res = await ask(url, { question: fresh(), tier: 'premium' }, { authorization: `Bearer ${TIGHT}` });
      if (res.status !== 200) break;
      served++;
    }
    expect(served).toBeGreaterThan(0);
    expect(res!.status).toBe(402);
    const body = (await res!.json()) as { error: string; message: string };
    expect(body.error).toBe('budget_exhausted');
    expect(body.message).toMatch(/daily budget of \$0\.01 for API key "tight" is exhausted/);
    // the other key is unaffected
    expect((await ask(url, { question: fresh() })).status).toBe(200);
  });

  it('serves liveness, readiness and metrics', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { redis: 'not configured' } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/weft_workflow_runs_total\{[^}]*workflow="answer"/);
    expect(metrics).toMatch(/process_cpu_user_seconds_total/);
    expect(metrics).toMatch(/http_server_requests_total\{[^}]*route="\/v1\/answer"/);
    // No label carries an API key's name (main, tight) or the key: per-key figures go to logs and spans.
    const labelValues = [...metrics.matchAll(/="([^"]*)"/g)].map((m) => m[1]!);
    expect(labelValues.filter((v) => /(^|\.)(main|tight)$/.test(v) || v.includes(KEY) || v.includes(TIGHT))).toEqual([]);
    expect(metrics).toMatch(/weft_ratelimit_rejections_total\{[^}]*limiter="ratelimit\.per_key"/);
    expect(metrics).toMatch(/weft_routes_total\{[^}]*step="budget",route="per_key"/);
  });
});

describe('gateway rate limit', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await boot({ RATE_LIMIT_RPS: '0.2', RATE_LIMIT_BURST: '2' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 429 with Retry-After once a key exceeds its rate', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await ask(url, { question: fresh() });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited!.json()) as { error: string }).error).toBe('rate_limited');
    // another key has its own bucket (its budget may be spent by the test above, but it is not rate-limited)
    expect((await ask(url, { question: fresh() }, { authorization: `Bearer ${TIGHT}` })).status).not.toBe(429);
  });
});

const redisGate = redisServerGate();
describe.skipIf(redisGate.skip)('gateway readiness with Redis', () => {
  let redis: RedisServer | undefined;
  let app: FastifyInstance | undefined;
  let url: string;
  beforeAll(async () => {
    if (redisGate.failure !== undefined) throw new Error(redisGate.failure);
    redis = await RedisServer.launch();
    ({ app, url } = await boot({ REDIS_URL: redis.url, REDIS_PREFIX: `gw-test-${process.pid}` }));
  });
  afterAll(async () => {
    await app?.close();
    await redis?.kill();
  });

  it('is ready while Redis answers, serves answers through the Redis stores, and answers 503 with the reason once Redis drops', async () => {
    await app!.gateway.stores.redis!.ready(5_000);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const question = fresh();
    expect((await ask(url, { question })).status).toBe(200);
    const again = (await (await ask(url, { question })).json()) as { cached: boolean };
    expect(again.cached).toBe(true);

    await redis!.kill();
    let res: Response | undefined;
    for (let i = 0; i < 40; i++) {
      res = await fetch(`${url}/health/ready`);
      if (res.status === 503) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(res!.status).toBe(503);
    const body = (await res!.json()) as { status: string; reason: string };
    expect(body.status).toBe('unavailable');
    expect(body.reason).toMatch(/^redis: /);
  });
});
