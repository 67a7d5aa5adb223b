import { afterEach, describe, expect, it } from 'vitest';
import { answerFor } from './answer.js';
import { startSimulatedProviders, type SimulatedProviders } from './start-simulated-providers.js';
import { chatBody, until } from './test-support/http.js';

let sim: SimulatedProviders | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Reads a server-sent-events body into its `data:` payloads, or the error that broke it off. */
async function events(response: Response): Promise<{ data: string[]; error?: unknown }> {
  const data: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(bytes, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (event.startsWith('data: ')) data.push(event.slice(6));
      }
    }
    return { data };
  } catch (error) {
    return { data, error };
  }
}

describe('streamed chat completions', () => {
  it('streams OpenAI chat.completion.chunk events, then [DONE], with a usage chunk when asked', async () => {
    sim = await startSimulatedProviders({ providers: { alpha: {} } });
    const res = await fetch(`${sim.baseUrlFor('alpha')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chatBody('What is Weft?', { stream: true, stream_options: { include_usage: true } })) });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { data } = await events(res);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { object: string; choices: Array<{ delta: { content?: string }; finish_reason: string | null }>; usage?: { completion_tokens: number } });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.flatMap((c) => c.choices.map((x) => x.delta.content ?? '')).join('');
    expect(text).toBe(answerFor('alpha', 'What is Weft?'));
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(5);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) as unknown } });
    expect(sim.statsOf('alpha').byStatus).toEqual({ '200': 1 });
  });

  it('breaks a stream off after failAfterTokens tokens (per provider or per request)', async () => {
    sim = await startSimulatedProviders({ providers: { alpha: { failAfterTokens: 3 } } });
    const res = await fetch(`${sim.baseUrlFor('alpha')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chatBody('hi', { stream: true })) });
    const { data, error } = await events(res);
    expect(error).toBeDefined();
    expect(data.filter((d) => d !== '[DONE]' && (JSON.parse(d) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content)).toHaveLength(3);
    const whole = await fetch(`${sim.baseUrlFor('alpha')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-sim-fail-after-tokens': '1000' }, body: JSON.stringify(chatBody('hi', { stream: true })) });
    expect((await events(whole)).data.at(-1)).toBe('[DONE]');
  });

  it('counts a stream its client cancelled: the abort reached the provider', async () => {
    sim = await startSimulatedProviders({ providers: { alpha: { tokenLatencyMs: 50 } } });
    const controller = new AbortController();
    const res = await fetch(`${sim.baseUrlFor('alpha')}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chatBody('hi', { stream: true })), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await until(() => sim!.statsOf('alpha').streamsCancelled === 1);
    expect(sim.statsOf('alpha')).toMatchObject({ inFlight: 0, streamsCancelled: 1 });
  });
});
