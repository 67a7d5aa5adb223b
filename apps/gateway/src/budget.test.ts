import type { FastifyInstance } from 'fastify';
import { RedisServer, redisServerGate } from '@weft/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

// Budgets that cannot overspend: 20 concurrent premium calls (hedged, so two provider attempts may
// run at once) on a key whose daily budget is $0.005, with answers of up to 64 tokens. Every call reserves its worst case before it
// runs, so the spend stays within the limit however the calls interleave.
const KEY = 'test-key-budget-0001';
const LIMIT = 0.005;

async function race(env: Record<string, string>): Promise<{ spent: number; served: number; refused: number }> {
  const app: FastifyInstance = await buildApp(
    loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: `tight:${KEY}:${LIMIT}`, RATE_LIMIT_RPS: '1000', RATE_LIMIT_BURST: '1000', HEDGE_QUANTILE: '0.5', HEDGE_DELAY_MS: '1', CACHE_TTL_MS: '0', MAX_TOKENS: '64', SIM_LATENCY_MS: '30', ...env }),
    { env: { SIM_LATENCY_MS: '30' } },
  );
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${url}/v1/answer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ question: `expensive question number ${i} ${'about many things '.repeat(20)}`, tier: 'premium' }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { cost?: { amount: number } } })),
      ),
    );
    const served = answers.filter((a) => a.status === 200);
    return { spent: served.reduce((n, a) => n + (a.body.cost?.amount ?? 0), 0), served: served.length, refused: answers.filter((a) => a.status === 402).length };
  } finally {
    await app.close();
  }
}

describe('budgets under concurrency', () => {
  it('never spends more than the limit, with the in-process store', async () => {
    const r = await race({});
    console.log(`[budget] in-process store: served ${r.served}, refused ${r.refused}, spent $${r.spent.toFixed(6)} of $${LIMIT}`);
    expect(r.spent).toBeLessThanOrEqual(LIMIT);
    expect(r.served).toBeGreaterThan(0);
    expect(r.refused).toBeGreaterThan(0);
  }, 60_000);

  const gate = redisServerGate();
  let redis: RedisServer | undefined;
  afterAll(async () => {
    await redis?.kill();
  });
  it.skipIf(gate.skip)('never spends more than the limit, with the budget in real Redis', async () => {
    if (gate.failure !== undefined) throw new Error(gate.failure);
    redis = await RedisServer.launch();
    const r = await race({ REDIS_URL: redis.url, REDIS_PREFIX: 'budget-race' });
    console.log(`[budget] Redis store: served ${r.served}, refused ${r.refused}, spent $${r.spent.toFixed(6)} of $${LIMIT}`);
    expect(r.spent).toBeLessThanOrEqual(LIMIT);
    expect(r.served).toBeGreaterThan(0);
    expect(r.refused).toBeGreaterThan(0);
  }, 60_000);
});
