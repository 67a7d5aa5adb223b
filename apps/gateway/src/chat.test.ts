import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listenUrl } from '@weft/service-kit';
import { answerFor } from '@weft/simulated-providers';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

// The official `openai` client, pointed at the gateway as its base URL, is the client here.
const KEY = 'test-key-chat-0001';

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('POST /v1/chat/completions with the openai client', () => {
  let app: FastifyInstance;
  let client: OpenAI;
  let n = 0;
  const fresh = () => `chat question ${++n} ${Date.now()}`;
  const sim = () => app.gateway.simulated!;
  const received = (p: string) => sim().statsOf(p).received;

  beforeAll(async () => {
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: `main:${KEY}`, RATE_LIMIT_RPS: '1000', RATE_LIMIT_BURST: '1000', PROVIDER_RETRIES: '0', PROVIDER_TIMEOUT_MS: '2000' });
    app = await buildApp(config, { env: {} });
    await app.listen({ port: 0, host: '127.0.0.1' });
    client = new OpenAI({ apiKey: KEY, baseURL: `${listenUrl(app.server.address(), '127.0.0.1', 0)}/v1`, maxRetries: 0 });
  });
  afterEach(() => {
    for (const p of ['alpha', 'beta', 'gamma']) sim().configure(p, { down: false, failAfterTokens: -1, tokenLatencyMs: 0 });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('streams an answer in several chunks, then the usage chunk', async () => {
    const question = fresh();
    const stream = await client.chat.completions.create({ model: 'standard', messages: [{ role: 'user', content: question }], stream: true, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta.content;
      if (d) deltas.push(d);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(answerFor('beta', question));
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('answers without streaming too, in the same shape as OpenAI', async () => {
    const question = fresh();
    const done = await client.chat.completions.create({ model: 'weft-standard', messages: [{ role: 'user', content: question }] });
    expect(done.object).toBe('chat.completion');
    expect(done.choices[0]?.message.content).toBe(answerFor('beta', question));
    expect(done.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('falls back when the primary fails before its first token', async () => {
    sim().configure('beta', { down: true });
    const question = fresh();
    const stream = await client.chat.completions.create({ model: 'standard', messages: [{ role: 'user', content: question }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(answerFor('gamma', question));
  });

  it('ends a stream that fails mid-way with an error, and never repeats text', async () => {
    sim().configure('beta', { failAfterTokens: 3 });
    const question = fresh();
    const before = { alpha: received('alpha'), gamma: received('gamma') };
    const stream = await client.chat.completions.create({ model: 'standard', messages: [{ role: 'user', content: question }], stream: true });
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) {
        const d = chunk.choices[0]?.delta.content;
        if (d) deltas.push(d);
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/interrupted/);
    expect(deltas).toHaveLength(3);
    expect(answerFor('beta', question).startsWith(deltas.join(''))).toBe(true);
    // Neither a retry nor a fallback ran after text was sent.
    expect({ alpha: received('alpha'), gamma: received('gamma') }).toEqual(before);
  });

  it("carries the client's abort to the provider: its stream is cancelled", async () => {
    sim().configure('beta', { tokenLatencyMs: 50 });
    const cancelledBefore = sim().statsOf('beta').streamsCancelled;
    const stream = await client.chat.completions.create({ model: 'standard', messages: [{ role: 'user', content: fresh() }], stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        stream.controller.abort();
        break;
      }
    }
    await until(() => sim().statsOf('beta').streamsCancelled === cancelledBefore + 1);
    expect(sim().statsOf('beta').inFlight).toBe(0);
    console.log(`[chat] client aborts 1; streams the provider saw cancelled ${sim().statsOf('beta').streamsCancelled - cancelledBefore}; provider requests still in flight ${sim().statsOf('beta').inFlight}`);
  });

  it('replays a cached stream without calling the provider again', async () => {
    const question = fresh();
    const ask = async () => {
      const stream = await client.chat.completions.create({ model: 'economy', messages: [{ role: 'user', content: question }], stream: true });
      const deltas: string[] = [];
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      return deltas;
    };
    const before = received('alpha');
    const first = await ask();
    const second = await ask();
    expect(second).toEqual(first);
    expect(second.length).toBeGreaterThan(5);
    expect(received('alpha')).toBe(before + 1);
  });

  it("errors in OpenAI's shape: an unknown model, a bad body, a wrong key", async () => {
    const unknown = await client.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error' });
    const empty = await client.chat.completions.create({ model: 'standard', messages: [] }).catch((e: unknown) => e);
    expect(empty).toMatchObject({ status: 400, type: 'invalid_request_error' });
    const wrong = await new OpenAI({ apiKey: 'not-a-key', baseURL: client.baseURL, maxRetries: 0 }).chat.completions.create({ model: 'standard', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
  });
});
