import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerFor, countTokens } from './answer.js';
import { startSimulatedProviders, type SimulatedProviders, type SimulatedProvidersOptions } from './start-simulated-providers.js';
import { call, chatBody, until, type CallResult } from './test-support/http.js';

const running: SimulatedProviders[] = [];

async function start(options: SimulatedProvidersOptions = {}): Promise<SimulatedProviders> {
  const sim = await startSimulatedProviders(options);
  running.push(sim);
  return sim;
}

function chat(sim: SimulatedProviders, provider: string, question = 'What is Weft?', headers: Record<string, string> = {}, signal?: AbortSignal): Promise<CallResult> {
  return call(`${sim.baseUrlFor(provider)}/chat/completions`, { method: 'POST', body: chatBody(question), headers, ...(signal ? { signal } : {}) });
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

describe('chat completions', () => {
  it('answers in the OpenAI chat.completion shape, with token counts from the text length', async () => {
    const sim = await start();
    const question = 'How do retries and timeouts compose?';
    const res = await call(`${sim.baseUrlFor('alpha')}/chat/completions`, {
      method: 'POST',
      body: { model: 'alpha-chat', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: question }], max_tokens: 500, temperature: 0.2 },
    });
    expect(res.status).toBe(200);
    const content = answerFor('alpha', question);
    const prompt = countTokens('Be brief.') + countTokens(question);
    expect(res.body).toEqual({
      id: 'chatcmpl-sim-alpha-1',
      object: 'chat.completion',
      created: expect.any(Number) as unknown,
      model: 'alpha-chat',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: prompt, completion_tokens: countTokens(content), total_tokens: prompt + countTokens(content) },
    });
    expect(res.headers['x-sim-provider']).toBe('alpha');
  });

  it('gives the same answer to the same question in every run, and names the provider', async () => {
    const first = await start();
    const second = await start({ seed: 99 });
    const a1 = await chat(first, 'alpha', 'Why is the sky blue?');
    const a2 = await chat(second, 'alpha', 'Why is the sky blue?');
    const b1 = await chat(first, 'beta', 'Why is the sky blue?');
    const other = await chat(first, 'alpha', 'Why is the sea salty?');
    const answer = (res: CallResult): string | undefined => res.body.choices?.[0]?.message.content;
    expect(answer(a1)).toBe(answer(a2));
    expect(answer(a1)).toMatch(/^Alpha says: /);
    expect(answer(b1)).toMatch(/^Beta says: /);
    expect(answer(other)).not.toBe(answer(a1));
  });

  it('serves every provider under its own base URL on one port', async () => {
    const sim = await start({ providers: { alpha: {}, 'big-model': { models: ['big-1', 'big-2'] } } });
    expect(sim.providers).toEqual(['alpha', 'big-model']);
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.baseUrlFor('big-model')).toBe(`${sim.url}/p/big-model/v1`);
    const models = await call(`${sim.baseUrlFor('big-model')}/models`);
    expect(models.body).toEqual({
      object: 'list',
      data: [
        { id: 'big-1', object: 'model', created: 1_700_000_000, owned_by: 'big-model' },
        { id: 'big-2', object: 'model', created: 1_700_000_000, owned_by: 'big-model' },
      ],
    });
    expect((await call(`${sim.baseUrlFor('alpha')}/models`)).body.data).toEqual([{ id: 'alpha-chat', object: 'model', created: 1_700_000_000, owned_by: 'alpha' }]);
    expect(() => sim.baseUrlFor('nope')).toThrow(TypeError);
    const unknown = await call(`${sim.url}/p/nope/v1/chat/completions`, { method: 'POST', body: chatBody('hi') });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe('provider_not_found');
  });

  it('cuts the answer at max_tokens and reports finish_reason "length"', async () => {
    const sim = await start();
    const res = await call(`${sim.baseUrlFor('alpha')}/chat/completions`, { method: 'POST', body: chatBody('Tell me everything.', { max_tokens: 3 }) });
    expect(res.body.choices?.[0]?.finish_reason).toBe('length');
    expect(res.body.choices?.[0]?.message.content).toHaveLength(12);
    expect(res.body.usage?.completion_tokens).toBe(3);
  });

  it('rejects an invalid request with 400 and a message from zod', async () => {
    const sim = await start();
    const url = `${sim.baseUrlFor('alpha')}/chat/completions`;
    const missing = await call(url, { method: 'POST', body: { model: 'm' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: { message: expect.stringContaining('`messages`') as unknown, type: 'invalid_request_error', code: 'invalid_request' } });
    const badRole = await call(url, { method: 'POST', body: { model: 'm', messages: [{ role: 'robot', content: 'x' }] } });
    expect(badRole.body.error?.message).toContain('`messages[0].role`');
    const badStream = await call(url, { method: 'POST', body: chatBody('hi', { stream: 'yes' }) });
    expect(badStream.body.error?.message).toContain('`stream`');
    const notJson = await call(url, { method: 'POST', body: '{not json' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error?.type).toBe('invalid_request_error');
  });

  it('reports every provider on /health, and each provider on its own /health', async () => {
    const sim = await start({ providers: { alpha: {}, beta: { down: true } } });
    expect((await call(`${sim.url}/health`)).body).toEqual({ status: 'ok', providers: { alpha: 'up', beta: 'down' } });
    expect((await call(`${sim.url}/p/alpha/health`)).status).toBe(200);
    expect((await call(`${sim.url}/p/beta/health`)).status).toBe(503);
  });
});

describe('latency', () => {
  it('waits each provider its own latency before answering', async () => {
    const sim = await start({ providers: { slow: { latencyMs: 200 }, fast: {} } });
    const t0 = performance.now();
    const [slow, fast] = await Promise.all([
      chat(sim, 'slow').then((res) => ({ res, ms: performance.now() - t0 })),
      chat(sim, 'fast').then((res) => ({ res, ms: performance.now() - t0 })),
    ]);
    expect(slow.res.status).toBe(200);
    expect(fast.res.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(195);
    expect(fast.ms).toBeLessThan(slow.ms);
  });

  it('answers exactly when latency plus jitter has passed, never before', async () => {
    const sim = await start({ providers: { alpha: { latencyMs: 1_000, jitterMs: 50 } } });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let result: CallResult | undefined;
    void chat(sim, 'alpha').then((res) => (result = res));
    await until(() => vi.getTimerCount() === 1);
    await vi.advanceTimersByTimeAsync(999);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(50);
    await until(() => result !== undefined);
    expect(result?.status).toBe(200);
  });

  it('lets x-sim-latency-ms set the latency of one request', async () => {
    const sim = await start({ providers: { alpha: { latencyMs: 60_000 } } });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let result: CallResult | undefined;
    void chat(sim, 'alpha', 'q', { 'x-sim-latency-ms': '300' }).then((res) => (result = res));
    await until(() => vi.getTimerCount() === 1);
    await vi.advanceTimersByTimeAsync(299);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await until(() => result !== undefined);
    expect(result?.status).toBe(200);
    const bad = await chat(sim, 'alpha', 'q', { 'x-sim-latency-ms': 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain('x-sim-latency-ms');
  });

  it('stops waiting and clears its timer when the client disconnects', async () => {
    const sim = await start({ providers: { alpha: { latencyMs: 60_000 } } });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    const pending = chat(sim, 'alpha', 'q', {}, controller.signal).catch((error: unknown) => error);
    await until(() => vi.getTimerCount() === 1);
    controller.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    await until(() => sim.statsOf('alpha').inFlight === 0);
    expect(vi.getTimerCount()).toBe(0);
    expect(sim.statsOf('alpha')).toEqual({ received: 1, inFlight: 0, disconnected: 1, byStatus: {}, streamsCancelled: 0 });
  });
});

describe('failures', () => {
  async function statuses(seed: number, count: number, errorRate: number): Promise<number[]> {
    const sim = await start({ seed, providers: { alpha: { errorRate } } });
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push((await chat(sim, 'alpha', `q${i}`)).status);
    await sim.close();
    return out;
  }

  it('replays the same failures for the same seed, and different ones for another seed', async () => {
    const first = await statuses(42, 100, 0.3);
    const again = await statuses(42, 100, 0.3);
    const other = await statuses(43, 100, 0.3);
    expect(first).toEqual(again);
    expect(other).not.toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 503]));
  });

  it('fails about errorRate of requests', async () => {
    const codes = await statuses(7, 400, 0.25);
    const failed = codes.filter((status) => status === 503).length / codes.length;
    expect(failed).toBeGreaterThan(0.19);
    expect(failed).toBeLessThan(0.31);
  });

  it('answers 503 at once for a down provider, whatever its latency', async () => {
    const sim = await start({ providers: { alpha: { down: true, latencyMs: 60_000 } } });
    const res = await chat(sim, 'alpha');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { message: 'Simulated provider alpha is down.', type: 'server_error', code: 'provider_down' } });
    expect((await call(`${sim.baseUrlFor('alpha')}/models`)).status).toBe(503);
  });

  it('sends Retry-After with a 429', async () => {
    const sim = await start({ providers: { alpha: { errorRate: 1, errorStatus: 429, retryAfterSeconds: 7 } } });
    const res = await chat(sim, 'alpha');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body.error).toEqual({ message: expect.any(String) as unknown, type: 'requests', code: 'rate_limit_exceeded' });
  });

  it('lets x-sim-fail force a failure, choose its status, or force success', async () => {
    const sim = await start({ providers: { alpha: { errorStatus: 500 }, broken: { errorRate: 1 } } });
    expect((await chat(sim, 'alpha', 'q', { 'x-sim-fail': '1' })).status).toBe(500);
    const limited = await chat(sim, 'alpha', 'q', { 'x-sim-fail': '429' });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect((await chat(sim, 'broken', 'q', { 'x-sim-fail': '0' })).status).toBe(200);
    expect((await chat(sim, 'broken')).status).toBe(503);
    expect((await chat(sim, 'alpha', 'q', { 'x-sim-fail': 'maybe' })).status).toBe(400);
  });
});

describe('admin endpoint', () => {
  it('scripts an outage and a recovery at run time', async () => {
    const sim = await start();
    const admin = `${sim.url}/admin/providers`;
    const down = await call(`${admin}/beta`, { method: 'PUT', body: { down: true } });
    expect(down.status).toBe(200);
    expect(down.body.behaviour).toEqual({ latencyMs: 0, jitterMs: 0, errorRate: 0, errorStatus: 503, retryAfterSeconds: 1, down: true, tokenLatencyMs: 0, failAfterTokens: -1 });
    expect((await chat(sim, 'beta')).status).toBe(503);
    expect((await chat(sim, 'alpha')).status).toBe(200);
    expect((await call(admin)).body.providers?.['beta']?.behaviour.down).toBe(true);
    await call(`${admin}/beta`, { method: 'PUT', body: { down: false, latencyMs: 5 } });
    expect((await chat(sim, 'beta')).status).toBe(200);
    expect(sim.behaviourOf('beta')).toMatchObject({ down: false, latencyMs: 5 });
    expect((await call(`${admin}/beta`)).body.stats).toEqual({ received: 2, inFlight: 0, disconnected: 0, byStatus: { '200': 1, '503': 1 }, streamsCancelled: 0 });
  });

  it('rejects a bad patch with 400 and zod\'s message, leaving the provider unchanged', async () => {
    const sim = await start();
    const put = (body: unknown): Promise<CallResult> => call(`${sim.url}/admin/providers/alpha`, { method: 'PUT', body });
    const rate = await put({ errorRate: 2 });
    expect(rate.status).toBe(400);
    expect(rate.body).toEqual({ error: { message: 'Expected `errorRate` to be a number between 0 and 1, got 2', type: 'invalid_request_error', code: 'invalid_request' } });
    expect((await put({ errorStatus: 404 })).body.error?.message).toBe('Expected `errorStatus` to be one of 429, 500, 503, got 404');
    expect((await put({ latencyMs: -1 })).body.error?.message).toBe('Expected `latencyMs` to be an integer between 0 and 300000, got -1');
    expect((await put({ errorrate: 0.5 })).body.error?.message).toContain('errorrate');
    expect((await put([1])).status).toBe(400);
    expect((await call(`${sim.url}/admin/providers/nope`, { method: 'PUT', body: { down: true } })).status).toBe(404);
    expect(sim.behaviourOf('alpha').errorRate).toBe(0);
  });

  it('validates configure() the same way, with a TypeError', async () => {
    const sim = await start();
    expect(() => sim.configure('alpha', { errorRate: -0.5 })).toThrow(new TypeError('Expected `errorRate` to be a number between 0 and 1, got -0.5'));
    expect(() => sim.configure('nope', {})).toThrow(TypeError);
    expect(sim.configure('alpha', { errorRate: 0.5 }).errorRate).toBe(0.5);
  });
});

describe('auth', () => {
  it('answers 401 in OpenAI\'s error shape when the bearer key is missing or wrong', async () => {
    const sim = await start({ apiKey: 'shared-key', providers: { alpha: {}, beta: { apiKey: 'beta-key' } } });
    const missing = await chat(sim, 'alpha');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { message: expect.stringContaining('API key') as unknown, type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect((await chat(sim, 'alpha', 'q', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await chat(sim, 'alpha', 'q', { authorization: 'Basic shared-key' })).status).toBe(401);
    expect((await chat(sim, 'alpha', 'q', { authorization: 'Bearer shared-key' })).status).toBe(200);
    expect((await chat(sim, 'beta', 'q', { authorization: 'Bearer shared-key' })).status).toBe(401);
    expect((await chat(sim, 'beta', 'q', { authorization: 'Bearer beta-key' })).status).toBe(200);
    expect((await call(`${sim.baseUrlFor('alpha')}/models`)).status).toBe(401);
    expect((await call(`${sim.url}/p/alpha/health`)).status).toBe(200);
  });

  it('needs no key when none is configured', async () => {
    const sim = await start();
    expect((await chat(sim, 'alpha')).status).toBe(200);
  });
});

describe('options', () => {
  it('rejects invalid options with a TypeError naming the option', async () => {
    await expect(startSimulatedProviders({ providers: { alpha: { errorRate: 2 } } })).rejects.toThrow(
      new TypeError('Expected `providers.alpha.errorRate` to be a number between 0 and 1, got 2'),
    );
    await expect(startSimulatedProviders({ port: 70_000 })).rejects.toThrow('Expected `port` to be an integer between 0 and 65535, got 70000');
    await expect(startSimulatedProviders({ providers: { Alpha: {} } })).rejects.toThrow(TypeError);
    await expect(startSimulatedProviders({ providers: {} })).rejects.toThrow('Expected `providers` to name at least one provider');
  });
});

describe('close', () => {
  function handles(type: string): number {
    return process.getActiveResourcesInfo().filter((t) => t === type).length;
  }

  it('closes cleanly, ending pending waits with 503 and leaving no socket, server or timer behind', async () => {
    const before = { servers: handles('TCPServerWrap'), sockets: handles('TCPSocketWrap'), timers: handles('Timeout') };
    const sim = await startSimulatedProviders({ providers: { alpha: { latencyMs: 60_000 }, beta: {} } });
    expect((await chat(sim, 'beta')).status).toBe(200);
    // Fake timers count the server's latency timers exactly; sockets and the server are real handles.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = chat(sim, 'alpha');
    await until(() => sim.statsOf('alpha').inFlight === 1);
    expect(vi.getTimerCount()).toBe(1);
    expect(handles('TCPServerWrap')).toBe(before.servers + 1);

    await sim.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(handles('TCPServerWrap')).toBe(before.servers);
    vi.useRealTimers();
    const cut = await pending; // resolves once the client's own socket has closed too
    expect(cut.status).toBe(503);
    expect(cut.body.error?.code).toBe('shutting_down');
    expect(handles('TCPSocketWrap')).toBe(before.sockets);
    expect(handles('Timeout')).toBeLessThanOrEqual(before.timers);
    expect(sim.statsOf('alpha')).toMatchObject({ inFlight: 0, byStatus: { '503': 1 } });

    await sim.close(); // idempotent
    await expect(call(`${sim.url}/health`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
