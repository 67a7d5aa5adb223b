import { describe, expect, it } from 'vitest';
import { step } from '../step/step.js';
import { sequence } from '../composition/sequence.js';
import { getLedger } from './ledger.js';
import { cost } from './cost.js';
import { budget } from './budget.js';
import { llmUsage } from './llm-usage.js';
import { createPriceTable } from './price-table.js';

const openAiLike = (model: string, prompt: number, completion: number) => ({ model, usage: { prompt_tokens: prompt, completion_tokens: completion }, text: 'ok' });

describe('cost()', () => {
  it('records the usage of each successful call under the wrapped primitive\'s name', async () => {
    const chat = cost(step('chat', () => openAiLike('gpt-4o-mini-2024-07-18', 1_000_000, 1_000_000)));
    const flow = sequence(chat, step('read', (_: unknown, ctx) => getLedger(ctx)));
    const ledger = await flow.run(undefined);
    expect(ledger.entries).toEqual([{ step: 'chat', model: 'gpt-4o-mini', amount: 0.75, inputTokens: 1_000_000, outputTokens: 1_000_000 }]);
    expect(chat.kind).toBe('cost');
    expect(chat.name).toBe('chat');
  });

  it('uses extract, the input and the default model', async () => {
    const search = cost(step('search', (q: string) => ({ pages: q.length })), {
      extract: (out, input) => ({ amount: out.pages * 0.01 + (input === 'vip' ? 1 : 0) }),
    });
    const embed = cost(step('embed', (texts: string[]) => texts.map(() => [0.1])), {
      model: 'my-embedder',
      prices: createPriceTable({ 'my-embedder': { input: 0.02, output: 0 } }),
      extract: (_out, texts) => ({ inputTokens: texts.join('').length * 1_000 }),
    });
    const flow = sequence(step('in', (s: string) => s), search, step('split', (s: { pages: number }) => Array.from({ length: s.pages }, () => 'abcd')), embed, step('read', (_: unknown, ctx) => getLedger(ctx)));
    const ledger = await flow.run('vip');
    expect(ledger.byStep).toEqual({ search: 1.03, embed: (12 * 1_000 * 0.02) / 1_000_000 });
    expect(ledger.byModel).toEqual({ 'my-embedder': 0.00024 });
  });

  it('records nothing when extract returns undefined, or when the call fails', async () => {
    const free = cost(step('cached', () => 1), { extract: () => undefined });
    const failing = cost(step('fails', (): { amount: number } => {
      throw new Error('down');
    }), { extract: (o) => o });
    const flow = sequence(free, step('read', (_: unknown, ctx) => getLedger(ctx).total));
    expect(await flow.run(undefined)).toBe(0);
    await expect(failing.run(undefined)).rejects.toThrow('down');
  });

  it('fails the call with a clear error when the model is unknown or no usage is found', async () => {
    const unknown = cost(step('x', () => openAiLike('mystery-9', 1, 1)));
    await expect(unknown.run(undefined)).rejects.toThrow(RangeError);
    await expect(unknown.run(undefined)).rejects.toThrow(/Unknown model "mystery-9"/);
    const noUsage = cost(step('y', () => 'plain text'));
    await expect(noUsage.run(undefined)).rejects.toThrow(/found no token usage in the output of "y"; pass `extract`/);
    const throwing = cost(step('z', () => 1), {
      extract: () => {
        throw 'bad extract';
      },
    });
    await expect(throwing.run(undefined)).rejects.toBeInstanceOf(Error);
  });

  it('throws TypeErrors naming bad options when built', () => {
    const s = step('s', () => 1);
    expect(() => cost({} as never)).toThrow(/`primitive`/);
    expect(() => cost(s, 5 as never)).toThrow(/`options`/);
    expect(() => cost(s, { extract: 'usage' as never })).toThrow(/`extract`/);
    expect(() => cost(s, { model: 'not-a-real-model' })).toThrow(/`model`/);
    expect(() => cost(s, { model: 42 as never })).toThrow(/`model`/);
    expect(() => cost(s, { prices: {} as never })).toThrow(/`prices`/);
    expect(() => cost(budget(s, { name: 'b', perRun: 1 }))).toThrow(/`primitive` to be not a budget: apply cost\(\) inside budget\(\)/);
  });
});

describe('llmUsage', () => {
  it('reads OpenAI, Anthropic, Google, Mistral and AI SDK shapes', () => {
    expect(llmUsage(openAiLike('gpt-4o', 10, 5))).toEqual({ model: 'gpt-4o', inputTokens: 10, outputTokens: 5 });
    expect(llmUsage({ model: 'claude-sonnet-4-20250514', usage: { input_tokens: 7, output_tokens: 3, cache_read_input_tokens: 100 } })).toEqual({
      model: 'claude-sonnet-4-20250514',
      inputTokens: 7,
      outputTokens: 3,
    });
    expect(llmUsage({ modelVersion: 'gemini-2.5-flash', usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6, thoughtsTokenCount: 10 } })).toEqual({
      model: 'gemini-2.5-flash',
      inputTokens: 4,
      outputTokens: 16,
    });
    expect(llmUsage({ usage: { inputTokens: 1, outputTokens: 2 }, response: { modelId: 'gpt-4.1' } })).toEqual({ model: 'gpt-4.1', inputTokens: 1, outputTokens: 2 });
    expect(llmUsage({ usage: { promptTokens: 1, completionTokens: 2 } })).toEqual({ inputTokens: 1, outputTokens: 2 });
    expect(llmUsage({ model: 'x' })).toBeUndefined();
    expect(llmUsage('text')).toBeUndefined();
    expect(llmUsage(null)).toBeUndefined();
  });
});
