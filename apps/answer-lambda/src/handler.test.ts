import { readFileSync } from 'node:fs';
import { startSimulatedProviders, type SimulatedProviders } from '@weft/simulated-providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providersFromEnv } from './workflow.js';

// The function as Lambda runs it: the handler module loaded fresh (its init phase reads
// ANSWER_PROVIDERS), invoked with the API Gateway fixtures the local runner uses.

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const context = () => ({ getRemainingTimeInMillis: () => 10_000, functionName: 'answer', awsRequestId: 'test' });
interface Result {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

let sim: SimulatedProviders;
let handler: (event: unknown, lambdaContext: { getRemainingTimeInMillis(): number }) => Promise<unknown>;
const lines: string[] = [];
const log = console.log;

beforeAll(async () => {
  sim = await startSimulatedProviders({ port: 0, providers: { alpha: { latencyMs: 1 }, beta: { latencyMs: 1 }, gamma: { latencyMs: 1 } } });
  process.env.ANSWER_PROVIDERS = JSON.stringify([
    { name: 'alpha', baseUrl: sim.baseUrlFor('alpha'), model: 'gpt-4o-mini', quality: 0.6 },
    { name: 'gamma', baseUrl: sim.baseUrlFor('gamma'), model: 'gpt-4o', quality: 0.9 },
  ]);
  delete process.env.REDIS_URL;
  console.log = (line: string) => void lines.push(line);
  ({ handler } = await import('./handler.js'));
});

afterAll(async () => {
  console.log = log;
  await sim?.close();
});

describe('the answer Lambda', () => {
  it('answers an API Gateway v2 and a v1 event, with the correlation ID echoed and one metrics line each', async () => {
    const v2 = (await handler(fixture('apigateway-v2-answer'), context())) as Result;
    expect(v2.statusCode).toBe(200);
    expect(JSON.parse(v2.body)).toMatchObject({ provider: 'gamma' });
    expect(v2.headers['x-correlation-id']).toBe('order-7f3a-2026');
    const v1 = (await handler(fixture('apigateway-v1-answer'), context())) as Result;
    expect(v1.statusCode).toBe(200);
    const metrics = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((m) => m.Workflow === 'answer');
    expect(metrics.slice(-2).map((m) => m.ColdStart)).toEqual([1, 0]);
    expect(metrics.at(-1)).toMatchObject({ Outcome: 'succeeded', Cost: expect.any(Number) as number });
  });

  it('falls back to the next provider when the best one is down, and refuses a bad body with 400', async () => {
    sim.configure('gamma', { down: true });
    try {
      const r = (await handler(fixture('apigateway-v2-answer'), context())) as Result;
      expect(r.statusCode).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ provider: 'alpha' });
    } finally {
      sim.configure('gamma', { down: false });
    }
    const bad = (await handler({ ...fixture('apigateway-v2-answer'), body: '{"question":"","extra":1}' }, context())) as Result;
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'invalid_request' });
  });

  it('names ANSWER_PROVIDERS when it is missing or malformed', () => {
    expect(() => providersFromEnv({})).toThrow(/`ANSWER_PROVIDERS`/);
    expect(() => providersFromEnv({ ANSWER_PROVIDERS: '[{"name":"x"}]' })).toThrow(/`ANSWER_PROVIDERS`/);
  });
});
