import type { FastifyInstance } from 'fastify';
import { RedisServer, redisServerGate } from '@weft/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

// Degraded mode, proved by killing the real Redis under a running gateway: cache hits (which cost
// nothing) are still answered from the process's local copy; new spend fails closed, or draws on
// the bounded per-key local allowance when one is configured; every decision is counted; and the
// log stays bounded however many requests the outage refuses.
const KEY = 'test-key-degraded-001';

interface Running {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly logLines: string[];
}

async function start(redis: RedisServer, env: Record<string, string> = {}): Promise<Running> {
  const logLines: string[] = [];
  const app = await buildApp(
    loadConfig({ PORT: '0', LOG_LEVEL: 'info', REDIS_URL: redis.url, REDIS_PREFIX: `degraded-${Math.random().toString(36).slice(2)}`, GATEWAY_API_KEYS: `deg:${KEY}:1`, RATE_LIMIT_RPS: '1000', RATE_LIMIT_BURST: '1000', HEDGE_QUANTILE: '0', MAX_TOKENS: '64', SIM_LATENCY_MS: '1', ...env }),
    { env: { SIM_LATENCY_MS: '1' }, logDestination: { write: (line: string) => void logLines.push(line) } },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, logLines };
}

async function ask(url: string, question: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/v1/answer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ question, tier: 'economy' }) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** The value of one series on the gateway's /metrics (its labels as written, then the service's), 0 when absent. */
async function metric(url: string, name: string, labels: string): Promise<number> {
  const series = `${name}{${labels},service="gateway"} `;
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.slice(series.length));
}

/** Log lines by level and message, without the one access line per request. */
function outageLines(lines: readonly string[]): Map<string, number> {
  const kinds = new Map<string, number>();
  for (const l of lines) {
    const { msg, level } = JSON.parse(l) as { msg?: string; level?: number };
    if (msg === 'request completed') continue;
    const kind = `${String(level)} ${String(msg).slice(0, 40)}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return kinds;
}

/** What `logEvents` lets through per event type and level each second. */
const LOG_LINES_PER_SECOND = 20;

const gate = redisServerGate();
describe.skipIf(gate.skip)('the gateway with Redis down', () => {
  let redis: RedisServer | undefined;
  let running: Running | undefined;
  afterEach(async () => {
    await running?.app.close();
    await redis?.stop();
    running = undefined;
    redis = undefined;
  });

  it('answers cache hits, refuses new spend with 503 budget_unavailable, and keeps its log bounded', async () => {
    if (gate.failure !== undefined) throw new Error(gate.failure);
    redis = await RedisServer.launch();
    running = await start(redis);
    const { url, logLines } = running;
    const first = await ask(url, 'What is a near cache?');
    expect(first.status).toBe(200);
    expect(first.body.cached).toBe(false);

    await redis.kill();
    const hit = await ask(url, '  what is a NEAR cache? ');
    expect(hit.status).toBe(200);
    expect(hit.body).toMatchObject({ cached: true, answer: first.body.answer });

    const linesBefore = logLines.length;
    const began = performance.now();
    const requests = 200;
    const answers = [];
    for (let batch = 0; batch < requests / 20; batch++) {
      answers.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => ask(url, `a new question ${batch}-${i}`)))));
    }
    const seconds = Math.ceil((performance.now() - began) / 1000);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]));
    expect(answers.every((a) => a.body.error === 'budget_unavailable')).toBe(true);
    const kinds = outageLines(logLines.slice(linesBefore));
    const total = [...kinds.values()].reduce((n, c) => n + c, 0);
    console.log(`[degraded] Redis down: cache hit served; ${requests} new questions refused (503 budget_unavailable) in ${seconds} s; ${total} log lines besides the access log:`, Object.fromEntries(kinds));
    // Bounded by time, not by traffic: at most LOG_LINES_PER_SECOND of each kind per second
    // (plus the line that reports what was suppressed), however many requests were refused.
    for (const [kind, count] of kinds) expect(count, kind).toBeLessThanOrEqual((LOG_LINES_PER_SECOND + 1) * (seconds + 1));
    expect(total).toBeLessThan(requests);
    expect(await metric(url, 'weft_budget_degraded_calls_total', 'budget="daily",decision="refused"')).toBe(requests);
    // Cache hits while Redis is down still answer after the refusals.
    expect((await ask(url, 'What is a near cache?')).status).toBe(200);
  });

  it('serves new questions from the bounded local allowance, counted, then refuses; spend stays within the allowance', async () => {
    if (gate.failure !== undefined) throw new Error(gate.failure);
    const allowance = 0.005;
    redis = await RedisServer.launch();
    running = await start(redis, { BUDGET_LOCAL_ALLOWANCE_USD: String(allowance) });
    const { url } = running;
    expect((await ask(url, 'warm up while Redis is up')).status).toBe(200);

    await redis.kill();
    let served = 0;
    let spent = 0;
    let refusedAt = -1;
    for (let i = 0; i < 200 && refusedAt < 0; i++) {
      const a = await ask(url, `question ${i} asked while Redis is down`);
      if (a.status === 200) {
        served++;
        spent += (a.body.cost as { amount: number }).amount;
      } else {
        expect(a).toMatchObject({ status: 503, body: { error: 'budget_unavailable' } });
        refusedAt = i;
      }
    }
    const admitted = await metric(url, 'weft_budget_degraded_calls_total', 'budget="daily",decision="allowance"');
    const refused = await metric(url, 'weft_budget_degraded_calls_total', 'budget="daily",decision="refused"');
    console.log(`[degraded] local allowance $${allowance}: served ${served} while Redis was down, spent $${spent.toFixed(6)}, then refused; counted ${admitted} admitted by the allowance, ${refused} refused`);
    expect(served).toBeGreaterThan(0);
    expect(refusedAt).toBe(served);
    expect(spent).toBeLessThanOrEqual(allowance);
    // Every call the allowance let through is counted.
    expect(admitted).toBeGreaterThanOrEqual(served);
    expect(refused).toBeGreaterThanOrEqual(1);
  });
});
