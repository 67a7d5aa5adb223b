import { isBulkheadRejectedError, isFallbackError, type RunContext } from '@weft/core';
import type { WeftFetch } from '@weft/http';
import { listenUrl } from '@weft/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig, type ProviderConfig } from './config.js';
import { createStores, type Stores } from './stores.js';
import { buildAnswerWorkflow, KEY_ID_ATTRIBUTE, type AnswerWorkflow } from './workflow.js';

const PROVIDERS: readonly ProviderConfig[] = [
  { name: 'alpha', baseUrl: 'http://alpha.test/v1', apiKey: undefined, model: 'gpt-4o-mini', quality: 0.6, priceInput: undefined, priceOutput: undefined },
  { name: 'beta', baseUrl: 'http://beta.test/v1', apiKey: undefined, model: 'gpt-4.1-mini', quality: 0.75, priceInput: undefined, priceOutput: undefined },
  { name: 'gamma', baseUrl: 'http://gamma.test/v1', apiKey: undefined, model: 'gpt-4o', quality: 0.9, priceInput: undefined, priceOutput: undefined },
];
const KEY = { name: 'test', id: '0123456789abcdef', dailyBudgetUsd: 100 };

/** A provider request the test answers by hand. */
interface PendingCall {
  readonly provider: string;
  readonly signal: AbortSignal;
  answer(): void;
}

/** A fetch whose provider calls wait until the test answers them; an aborted call rejects like fetch does. */
function manualFetch(): { fetch: WeftFetch; calls: PendingCall[] } {
  const calls: PendingCall[] = [];
  const fetch: WeftFetch = (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const provider = new URL(input instanceof Request ? input.url : input).hostname.replace(/\.test$/, '');
      const signal = (init?.ctx as RunContext).signal;
      signal.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')), { once: true });
      const { model } = JSON.parse(typeof init?.body === 'string' ? init.body : '{}') as { model: string };
      const body = { model, choices: [{ message: { content: `${provider} says hello` } }], usage: { prompt_tokens: 10, completion_tokens: 5 } };
      calls.push({ provider, signal, answer: () => resolve(Response.json(body)) });
    });
  return { fetch, calls };
}

let stores: Stores | undefined;
let workflow: AnswerWorkflow | undefined;
afterEach(async () => {
  workflow?.stop();
  await stores?.close();
  workflow = undefined;
  stores = undefined;
});

function build(env: Record<string, string>, fetch: WeftFetch): AnswerWorkflow {
  const config = loadConfig({ PROVIDER_RETRIES: '0', CACHE_TTL_MS: '0', RATE_LIMIT_RPS: '1000', RATE_LIMIT_BURST: '1000', ...env });
  stores = createStores({ redisUrl: undefined, redisPrefix: 'test:' });
  workflow = buildAnswerWorkflow({ config, providers: PROVIDERS, keys: [KEY], stores, fetch });
  return workflow;
}

const ask = (w: AnswerWorkflow, question: string, tier: string) => w.answer.run({ question, tier }, { attributes: { [KEY_ID_ATTRIBUTE]: KEY.id }, workflow: 'answer' });

describe('provider bulkheads', () => {
  it('falls back to the next provider at once when the routed provider has no free slot or queue place', async () => {
    const { fetch, calls } = manualFetch();
    const w = build({ PROVIDER_MAX_CONCURRENT: '1', PROVIDER_MAX_QUEUE: '0', HEDGE_QUANTILE: '0' }, fetch);
    const first = ask(w, 'first question', 'standard');
    await vi.waitFor(() => expect(calls.map((c) => c.provider)).toEqual(['beta']));
    const second = ask(w, 'second question', 'standard');
    // Standard routes to beta; with beta's one slot taken, the next best provider answers.
    await vi.waitFor(() => expect(calls.map((c) => c.provider)).toEqual(['beta', 'gamma']));
    for (const c of calls) c.answer();
    expect([(await first).provider, (await second).provider]).toEqual(['beta', 'gamma']);
    expect(w.bulkheads.get('beta')).toMatchObject({ maxConcurrent: 1, maxQueue: 0, active: 0, name: 'provider.beta' });
  });

  it('queues a call for a provider slot while the queue has room', async () => {
    const { fetch, calls } = manualFetch();
    const w = build({ PROVIDER_MAX_CONCURRENT: '1', PROVIDER_MAX_QUEUE: '1', HEDGE_QUANTILE: '0' }, fetch);
    const first = ask(w, 'first question', 'standard');
    const second = ask(w, 'second question', 'standard');
    await vi.waitFor(() => expect(w.bulkheads.get('beta')!.queued).toBe(1));
    calls[0]!.answer();
    await vi.waitFor(() => expect(calls.map((c) => c.provider)).toEqual(['beta', 'beta']));
    calls[1]!.answer();
    expect([(await first).provider, (await second).provider]).toEqual(['beta', 'beta']);
  });

  it('fails with every provider named once every bulkhead is full', async () => {
    const { fetch, calls } = manualFetch();
    const w = build({ PROVIDER_MAX_CONCURRENT: '1', PROVIDER_MAX_QUEUE: '0', HEDGE_QUANTILE: '0' }, fetch);
    const busy = ['one', 'two', 'three'].map((q) => ask(w, q, 'standard'));
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    const error = await ask(w, 'four', 'standard').catch((e: unknown) => e);
    expect(isFallbackError(error)).toBe(true);
    const errors = (error as { errors: unknown[] }).errors;
    expect(errors).toHaveLength(3);
    expect(errors.every(isBulkheadRejectedError)).toBe(true);
    for (const c of calls) c.answer();
    await Promise.all(busy);
  });

  it('takes per-provider limits over the gateway-wide default', () => {
    const config = loadConfig({ GATEWAY_PROVIDERS: 'openai', OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_MODEL: 'gpt-4o-mini', OPENAI_MAX_CONCURRENT: '4', OPENAI_MAX_QUEUE: '2' });
    stores = createStores({ redisUrl: undefined, redisPrefix: 'test:' });
    workflow = buildAnswerWorkflow({ config, providers: config.providers, keys: [KEY], stores, fetch: manualFetch().fetch });
    expect(workflow.bulkheads.get('openai')).toMatchObject({ maxConcurrent: 4, maxQueue: 2 });
  });
});

describe('hedging', () => {
  it('starts a second attempt to the same provider for a slow premium call, and the first answer wins', async () => {
    const { fetch, calls } = manualFetch();
    const w = build({ HEDGE_DELAY_MS: '20' }, fetch);
    const answer = ask(w, 'a premium question', 'premium');
    await vi.waitFor(() => expect(calls.map((c) => c.provider)).toEqual(['gamma', 'gamma']));
    calls[1]!.answer();
    expect(await answer).toMatchObject({ provider: 'gamma' });
    // The slower attempt is cancelled, and both held a slot of gamma's bulkhead until they ended.
    expect(calls[0]!.signal.aborted).toBe(true);
    await vi.waitFor(() => expect(w.bulkheads.get('gamma')!.active).toBe(0));
  });

  it('never hedges standard or economy calls', async () => {
    const { fetch, calls } = manualFetch();
    const w = build({ HEDGE_DELAY_MS: '20' }, fetch);
    const answers = [ask(w, 'a standard question', 'standard'), ask(w, 'an economy question', 'economy')];
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 150));
    expect(calls.map((c) => c.provider).sort()).toEqual(['alpha', 'beta']);
    for (const c of calls) c.answer();
    await Promise.all(answers);
  });

  it('does not hedge when HEDGE_QUANTILE is 0', async () => {
    const { fetch, calls } = manualFetch();
    const w = build({ HEDGE_DELAY_MS: '20', HEDGE_QUANTILE: '0' }, fetch);
    const answer = ask(w, 'a premium question', 'premium');
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 150));
    expect(calls).toHaveLength(1);
    calls[0]!.answer();
    expect(await answer).toMatchObject({ provider: 'gamma' });
  });

  it('waits out the first attempt when the hedge finds the bulkhead full', async () => {
    const { fetch, calls } = manualFetch();
    const w = build({ HEDGE_DELAY_MS: '20', PROVIDER_MAX_CONCURRENT: '1', PROVIDER_MAX_QUEUE: '0' }, fetch);
    const answer = ask(w, 'a premium question', 'premium');
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 100));
    // The hedge was rejected by gamma's full bulkhead; it neither failed the call nor fell back.
    expect(calls.map((c) => c.provider)).toEqual(['gamma']);
    expect(calls[0]!.signal.aborted).toBe(false);
    calls[0]!.answer();
    expect(await answer).toMatchObject({ provider: 'gamma' });
  });
});

describe('over HTTP', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers 503 providers_unavailable with the correlation ID when every provider bulkhead is full', async () => {
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: 'main:test-key-bulkhead-0001', RATE_LIMIT_RPS: '1000', RATE_LIMIT_BURST: '1000', PROVIDER_MAX_CONCURRENT: '1', PROVIDER_MAX_QUEUE: '0' });
    app = await buildApp(config, { env: { SIM_LATENCY_MS: '400' } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = listenUrl(app.server.address(), '127.0.0.1', 0);
    const post = (i: number) =>
      fetch(`${url}/v1/answer`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-key-bulkhead-0001', 'content-type': 'application/json', 'x-correlation-id': `bulkhead-${i}` },
        body: JSON.stringify({ question: `crowded question ${i}`, tier: 'standard' }),
      }).then(async (r) => ({ i, status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const results = await Promise.all([0, 1, 2, 3, 4].map(post));
    // Three providers, one slot each: three answers, and the rest refused at once.
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ error: 'providers_unavailable', correlationId: `bulkhead-${r.i}` });
      expect(r.body.message).toBe('No provider could answer; try again shortly.');
    }
  });
});
