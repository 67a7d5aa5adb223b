import type { CostUsage } from './record-cost.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Reads the model and token counts from an LLM response, or returns undefined when it finds none.
 * Understands the common shapes:
 * - OpenAI Chat Completions and Mistral: `{ model, usage: { prompt_tokens, completion_tokens } }`
 * - OpenAI Responses and Anthropic Messages: `{ model, usage: { input_tokens, output_tokens } }`
 *   (Anthropic's cache read/write tokens are not counted)
 * - Google Gemini: `{ modelVersion, usageMetadata: { promptTokenCount, candidatesTokenCount, thoughtsTokenCount } }`
 * - Vercel AI SDK: `{ usage: { inputTokens, outputTokens } }` or `{ usage: { promptTokens, completionTokens } }`,
 *   with the model from `response.modelId` when present.
 *
 * It is the default `extract` of {@link cost}.
 *
 * @example
 * ```ts
 * llmUsage({ model: 'gpt-4o', usage: { prompt_tokens: 10, completion_tokens: 5 } });
 * // { model: 'gpt-4o', inputTokens: 10, outputTokens: 5 }
 * ```
 */
export function llmUsage(response: unknown): CostUsage | undefined {
  if (!isObj(response)) return undefined;
  let model: string | undefined =
    typeof response.model === 'string' ? response.model : typeof response.modelVersion === 'string' ? response.modelVersion : undefined;
  if (model === undefined && isObj(response.response) && typeof response.response.modelId === 'string') model = response.response.modelId;

  let inputTokens: number | undefined;
  let outputTokens: number | undefined;
  const usage = response.usage;
  if (isObj(usage)) {
    inputTokens = num(usage.prompt_tokens) ?? num(usage.input_tokens) ?? num(usage.inputTokens) ?? num(usage.promptTokens);
    outputTokens = num(usage.completion_tokens) ?? num(usage.output_tokens) ?? num(usage.outputTokens) ?? num(usage.completionTokens);
  } else if (isObj(response.usageMetadata)) {
    const meta = response.usageMetadata;
    inputTokens = num(meta.promptTokenCount);
    const candidates = num(meta.candidatesTokenCount);
    const thoughts = num(meta.thoughtsTokenCount);
    outputTokens = candidates === undefined && thoughts === undefined ? undefined : (candidates ?? 0) + (thoughts ?? 0);
  }
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  return {
    ...(model === undefined ? {} : { model }),
    inputTokens: inputTokens ?? 0,
    outputTokens: outputTokens ?? 0,
  };
}
