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
  stream: z.literal(false, { error: 'streaming is not supported by the simulated providers' }).optional(),
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
