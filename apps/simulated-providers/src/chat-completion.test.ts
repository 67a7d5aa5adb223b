import { describe, expect, it } from 'vitest';
import { answerFor, countTokens } from './answer.js';
import { chatCompletionRequestSchema, completeChat } from './chat-completion.js';

describe('completeChat', () => {
  it('answers the last user message and counts every message in prompt_tokens', () => {
    const response = completeChat(
      'beta',
      {
        model: 'beta-chat',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'First question?' },
          { role: 'assistant', content: 'First answer.' },
          { role: 'user', content: [{ type: 'text', text: 'Second ' }, { type: 'text', text: 'question?' }] },
        ],
      },
      'chatcmpl-1',
      1_700_000_123,
    );
    const content = answerFor('beta', 'Second question?');
    const prompt = countTokens('You are terse.') + countTokens('First question?') + countTokens('First answer.') + countTokens('Second question?');
    expect(response).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_123,
      model: 'beta-chat',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: prompt, completion_tokens: countTokens(content), total_tokens: prompt + countTokens(content) },
    });
  });

  it('prefers max_completion_tokens over max_tokens when cutting the answer', () => {
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'q' }], max_tokens: 2, max_completion_tokens: 5 };
    const response = completeChat('alpha', request, 'id', 0);
    expect(response.choices[0].finish_reason).toBe('length');
    expect(response.usage.completion_tokens).toBe(5);
    expect(response.choices[0].message.content).toBe(answerFor('alpha', 'q').slice(0, 20));
  });

  it('does not cut an answer that fits', () => {
    const response = completeChat('alpha', { model: 'm', messages: [{ role: 'user', content: 'q' }], max_tokens: 10_000 }, 'id', 0);
    expect(response.choices[0].finish_reason).toBe('stop');
  });
});

describe('chatCompletionRequestSchema', () => {
  it('ignores fields it does not read, as OpenAI clients send many', () => {
    const parsed = chatCompletionRequestSchema.safeParse({ model: 'm', messages: [{ role: 'user', content: 'q' }], top_p: 1, user: 'u', stream: false });
    expect(parsed.success).toBe(true);
  });

  it('rejects empty messages, a non-positive max_tokens and a temperature above 2', () => {
    expect(chatCompletionRequestSchema.safeParse({ model: 'm', messages: [] }).success).toBe(false);
    expect(chatCompletionRequestSchema.safeParse({ model: 'm', messages: [{ role: 'user', content: 'q' }], max_tokens: 0 }).success).toBe(false);
    expect(chatCompletionRequestSchema.safeParse({ model: 'm', messages: [{ role: 'user', content: 'q' }], temperature: 3 }).success).toBe(false);
  });
});
