import { step, type Primitive, type PriceTable } from '@weft/core';
import type { WeftFetch } from '@weft/http';
import { z } from 'zod';
import type { ProviderConfig, Tier } from '../config.js';
import { ProviderError } from './provider-error.js';

/** What the gateway asks a provider. */
export interface ProviderRequest {
  readonly question: string;
  readonly tier: Tier;
}

/** What one provider answered. */
export interface ProviderAnswer {
  readonly answer: string;
  /** The provider that served the answer. */
  readonly provider: string;
  /** The model the provider says answered. */
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The run that called the provider; differs from the current run on a cache hit. */
  readonly runId: string;
}

const completionSchema = z.object({
  model: z.string().min(1),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
  usage: z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) }),
});

const SYSTEM_PROMPT = 'You are a concise assistant. Answer the question in a few sentences.';
/** The longest provider error message kept in an error: bodies can be large. */
const MAX_ERROR_TEXT = 300;

/** What {@link openAiCompatible} needs besides the provider's own config. */
export interface OpenAiCompatibleOptions {
  /** The fetch to call through: Weft's wrapper, so the run's signal and trace headers travel. */
  readonly fetch: WeftFetch;
  /** Most output tokens to ask for. */
  readonly maxTokens: number;
  /** Prices the provider's token counts; must know the provider's model. */
  readonly prices: PriceTable;
}

/**
 * One call to an OpenAI-compatible `/chat/completions` endpoint, as a primitive that records its
 * cost (priced from the response's `usage`). It has no resilience of its own: the workflow adds
 * timeout, circuit breaker and retry around it.
 *
 * @example
 * ```ts
 * const alpha = openAiCompatible({ name: 'alpha', baseUrl, apiKey: undefined, model: 'gpt-4o-mini', quality: 0.6 }, { fetch: weftFetch, maxTokens: 256, prices: defaultPriceTable });
 * const answer = await alpha.run({ question: 'Why is the sky blue?', tier: 'economy' });
 * ```
 */
export function openAiCompatible(provider: ProviderConfig, options: OpenAiCompatibleOptions): Primitive<ProviderRequest, ProviderAnswer> {
  const url = `${provider.baseUrl}/chat/completions`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (provider.apiKey !== undefined) headers.authorization = `Bearer ${provider.apiKey}`;
  const call = step(`provider.${provider.name}`, async (request: ProviderRequest, ctx): Promise<ProviderAnswer> => {
    const response = await options.fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: provider.model,
        max_tokens: options.maxTokens,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: request.question },
        ],
      }),
      ctx,
    });
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).slice(0, MAX_ERROR_TEXT);
      const retryAfter = Number(response.headers.get('retry-after'));
      // Only the provider's error code, if it is a plain identifier: its free text may echo anything (a key, the prompt).
      const code = codeOf(text);
      throw new ProviderError(provider.name, response.status, `Provider ${provider.name} answered ${response.status}${code ? ` (${code})` : ''}`, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined);
    }
    const parsed = completionSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new ProviderError(provider.name, 0, `Provider ${provider.name} answered something that is not a chat completion: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const body = parsed.data;
    return {
      answer: body.choices[0]!.message.content ?? '',
      provider: provider.name,
      model: body.model,
      inputTokens: body.usage.prompt_tokens,
      outputTokens: body.usage.completion_tokens,
      runId: ctx.runId,
    };
  });
  return call.cost({ extract: (out) => ({ model: out.model, inputTokens: out.inputTokens, outputTokens: out.outputTokens }), prices: options.prices });
}

/** The `error.code` of an OpenAI-style error body when it is a plain identifier, else undefined. */
function codeOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } };
    const code = body.error?.code;
    return typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
