import { CircuitBreaker, createPriceTable, sequence, step, type Primitive } from '@weft/core';
import { createFetch } from '@weft/http';
import type { ProviderConfig } from '@weft/gateway/dist/config.js';
import { openAiCompatible, type ProviderAnswer } from '@weft/gateway/dist/providers/openai-compatible.js';
import type { LambdaState } from '@weft/lambda';
import { z } from 'zod';

/** What the function answers: `{ question, tier }`, as `POST /v1/answer` on the gateway. */
const answerInput = z.strictObject({
  question: z.string().trim().min(1).max(4_000),
  tier: z.enum(['economy', 'standard', 'premium']).default('standard'),
});

/** A provider as `ANSWER_PROVIDERS` lists it (JSON): name, OpenAI base URL, model, optional key. */
const providerSchema = z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/), baseUrl: z.url(), model: z.string().min(1), apiKey: z.string().optional(), quality: z.number().min(0).max(1).default(0.5) });

/**
 * The providers from `ANSWER_PROVIDERS`, a JSON array. Throws a `TypeError` naming the variable
 * with the zod-derived message when it is missing or malformed.
 *
 * @example
 * ```ts
 * providersFromEnv({ ANSWER_PROVIDERS: '[{"name":"openai","baseUrl":"https://api.openai.com/v1","model":"gpt-4o-mini","apiKey":"sk-..."}]' });
 * ```
 */
export function providersFromEnv(env: NodeJS.ProcessEnv): ProviderConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(env.ANSWER_PROVIDERS ?? '');
  } catch {
    throw new TypeError('Expected `ANSWER_PROVIDERS` to be a JSON array of providers ({ name, baseUrl, model, apiKey? })');
  }
  const parsed = z.array(providerSchema).min(1).safeParse(raw);
  if (!parsed.success) throw new TypeError(`Expected \`ANSWER_PROVIDERS\` to list providers: ${z.prettifyError(parsed.error)}`);
  return parsed.data.map((p) => ({ name: p.name, baseUrl: p.baseUrl, apiKey: p.apiKey, model: p.model, quality: p.quality, priceInput: undefined, priceOutput: undefined }));
}

/**
 * The answer workflow for Lambda: the input checked by {@link answerInput}, then each provider, best
 * quality first, with a timeout, a circuit breaker kept in `state` (Redis with `REDIS_URL`, so every
 * container shares it) and retries, falling back down the list.
 *
 * @example
 * ```ts
 * const answer = buildAnswer(providersFromEnv(process.env), await LambdaState.create());
 * ```
 */
export function buildAnswer(providers: readonly ProviderConfig[], state: LambdaState, options: { readonly timeoutMs?: number; readonly maxTokens?: number } = {}): Primitive<unknown, ProviderAnswer> {
  // The built-in price table knows the common models; the gateway's full workflow module (Redis,
  // Fastify) is not loaded, so a cold start stays small.
  const prices = createPriceTable({});
  const fetch = createFetch({ propagate: () => false });
  const calls = [...providers]
    .sort((a, b) => b.quality - a.quality)
    .map((p) => {
      const breaker = state.breaker(new CircuitBreaker({ name: `provider.${p.name}`, threshold: 3, openMs: 30_000 }));
      return openAiCompatible(p, { fetch, maxTokens: options.maxTokens ?? 256, prices })
        .timeout(options.timeoutMs ?? 10_000)
        .circuitBreaker(breaker)
        .retry({ retries: 2, minDelay: 200, maxDelay: 2_000 });
    });
  const chain = calls.length === 1 ? calls[0]! : calls[0]!.fallback(calls[1]!, ...calls.slice(2));
  const validate = step({ name: 'validate', input: answerInput }, (req) => req) as unknown as Primitive<unknown, z.infer<typeof answerInput>>;
  return sequence(validate, chain);
}
