import { z } from 'zod';
import { answerFor, countTokens } from './answer.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

/** Schema of an OpenAI chat-completions request, as far as the simulator reads it. Unknown fields are ignored. */
export const chatCompletionRequestSchema = z.object({
  model: z.string().min(1),
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: z.union([z.string(), z.array(textPart)]),
      }),
    )
    .min(1),
  max_tokens: z.int().positive().optional(),
  max_completion_tokens: z.int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
});

/** A validated chat-completions request. */
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** An OpenAI chat-completions response. */
export interface ChatCompletionResponse {
  readonly id: string;
  readonly object: 'chat.completion';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly [
    {
      readonly index: 0;
      readonly message: { readonly role: 'assistant'; readonly content: string };
      readonly finish_reason: 'stop' | 'length';
    },
  ];
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number };
}

/**
 * The error body every non-2xx answer carries, as OpenAI's API sends it. `type` is
 * `invalid_request_error` (4xx), `requests` (429) or `server_error` (5xx).
 */
export interface OpenAiErrorBody {
  readonly error: { readonly message: string; readonly type: string; readonly code: string };
}

function textOf(content: ChatCompletionRequest['messages'][number]['content']): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/**
 * Builds the deterministic completion a provider returns: the answer to the last user message (see
 * {@link answerFor}), cut to `max_completion_tokens` / `max_tokens` with `finish_reason: 'length'`
 * when longer, and token counts from {@link countTokens}.
 */
export function completeChat(provider: string, request: ChatCompletionRequest, id: string, created: number): ChatCompletionResponse {
  let question = '';
  let promptTokens = 0;
  for (const message of request.messages) {
    const text = textOf(message.content);
    promptTokens += countTokens(text);
    if (message.role === 'user') question = text;
  }
  let content = answerFor(provider, question);
  let finishReason: 'stop' | 'length' = 'stop';
  const limit = request.max_completion_tokens ?? request.max_tokens;
  if (limit !== undefined && countTokens(content) > limit) {
    content = content.slice(0, limit * 4);
    finishReason = 'length';
  }
  const completionTokens = countTokens(content);
  return {
    id,
    object: 'chat.completion',
    created,
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** One `chat.completion.chunk` of a streamed answer, as OpenAI sends it. */
export interface ChatCompletionChunk {
  readonly id: string;
  readonly object: 'chat.completion.chunk';
  readonly created: number;
  readonly model: string;
  readonly choices: ReadonlyArray<{ readonly index: 0; readonly delta: { readonly role?: 'assistant'; readonly content?: string }; readonly finish_reason: 'stop' | 'length' | null }>;
  readonly usage?: ChatCompletionResponse['usage'] | null;
}

/**
 * The chunks of a streamed answer, as OpenAI's API sends them: a first chunk with the role, one per
 * token (a word and its leading space), a last one with `finish_reason`, and, with
 * `stream_options.include_usage`, a final chunk with no choices and the usage.
 */
export function chatCompletionChunks(provider: string, request: ChatCompletionRequest, id: string, created: number): ChatCompletionChunk[] {
  const whole = completeChat(provider, request, id, created);
  const base = { id, object: 'chat.completion.chunk', created, model: request.model } as const;
  const tokens = whole.choices[0].message.content.match(/\s*\S+/g) ?? [];
  const chunks: ChatCompletionChunk[] = [{ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }];
  for (const token of tokens) chunks.push({ ...base, choices: [{ index: 0, delta: { content: token }, finish_reason: null }] });
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: whole.choices[0].finish_reason }] });
  if (request.stream_options?.include_usage) chunks.push({ ...base, choices: [], usage: whole.usage });
  return chunks;
}
