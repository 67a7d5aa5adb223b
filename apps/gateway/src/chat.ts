import { budget, isAbortedError, isCircuitOpenError, isTimeoutError, RateLimiter, route, type Bulkhead, type CircuitBreaker, type PriceTable, type RunContext } from '@weft/core';
import { recordCost } from '@weft/core';
import { routeStream, streamStep, type StreamPrimitive } from '@weft/core/stream';
import type { WeftFetch } from '@weft/http';
import { z } from 'zod';
import type { ApiKey } from './auth.js';
import { TIERS, type GatewayConfig, type ProviderConfig, type Tier } from './config.js';
import { isProviderError, ProviderError } from './providers/provider-error.js';
import type { Stores } from './stores.js';
import { KEY_ID_ATTRIBUTE } from './workflow.js';

/** The body of `POST /v1/chat/completions`: OpenAI's, as far as the gateway reads it. Unknown fields are ignored. */
export const chatRequestSchema = z.object({
  /** A tier (`economy`, `standard`, `premium`, or `weft-<tier>`): the gateway picks the provider. */
  model: z.string().min(1).max(100),
  messages: z
    .array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: z.string().max(16_000) }))
    .min(1)
    .max(100),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.int().positive().max(4_096).nullish(),
  max_completion_tokens: z.int().positive().max(4_096).nullish(),
});

/** A validated chat request, with its tier resolved. */
export interface ChatRequest {
  readonly tier: Tier;
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>;
  readonly maxTokens: number;
}

/** One piece of a streamed answer: text as it comes, then the usage at the end. */
export type ChatChunk =
  | { readonly type: 'delta'; readonly content: string }
  | { readonly type: 'usage'; readonly provider: string; readonly model: string; readonly promptTokens: number; readonly completionTokens: number };

/** The tier a `model` names, or undefined. */
export function tierOf(model: string): Tier | undefined {
  const name = model.startsWith('weft-') ? model.slice(5) : model;
  return (TIERS as readonly string[]).includes(name) ? (name as Tier) : undefined;
}

const TIER_MIN_QUALITY: Readonly<Record<Tier, number>> = { economy: 0, standard: 0.7, premium: 0.85 };
const DAY_MS = 86_400_000;

/** What {@link buildChatWorkflow} needs: the answer workflow's breakers and bulkheads are shared, so a provider's health is one state. */
export interface ChatWorkflowDeps {
  readonly config: GatewayConfig;
  readonly providers: readonly ProviderConfig[];
  readonly keys: readonly ApiKey[];
  readonly stores: Stores;
  readonly fetch: WeftFetch;
  readonly prices: PriceTable;
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  readonly bulkheads: ReadonlyMap<string, Bulkhead>;
}

/**
 * The streaming chat workflow behind `POST /v1/chat/completions`, with the same protections as
 * `/v1/answer`, each with its stream meaning: the per-key rate limit and the per-key daily budget
 * act before the stream starts (the budget reserves the prompt and `max_tokens` at the dearest
 * price, and settles from the provider's usage, or from the tokens produced when the stream is cut
 * short); the cache replays a completed stream; the tier picks the cheapest good-enough provider
 * and falls back down the rest, best quality first, only before the first token; each provider
 * stream has a first-token and idle timeout, the provider's circuit breaker (mid-stream failures
 * count), its bulkhead, and retries before the first token; premium streams are hedged on their
 * first token.
 */
export function buildChatWorkflow(deps: ChatWorkflowDeps): StreamPrimitive<ChatRequest, ChatChunk> {
  const { config, providers, keys, stores, prices } = deps;
  const byQuality = [...providers].sort((a, b) => b.quality - a.quality);
  const perProvider = new Map(
    providers.map((p) => {
      const s = providerStream(p, deps.fetch, prices)
        .timeout({ firstChunkMs: config.providerTimeoutMs, idleMs: config.providerTimeoutMs })
        .circuitBreaker(deps.breakers.get(p.name)!)
        .around((whole) => whole.bulkhead(deps.bulkheads.get(p.name)!))
        .retry({ retries: config.providerRetries, minDelay: 100, maxDelay: 2_000, retryOn: isTransient });
      return [p.name, s] as const;
    }),
  );
  const chainFor = (tier: Tier): StreamPrimitive<ChatRequest, ChatChunk> => {
    const costOf = (p: ProviderConfig): number => prices.cost(p.model, 1_000, 1_000);
    const eligible = providers.filter((p) => p.quality >= TIER_MIN_QUALITY[tier]).sort((a, b) => costOf(a) - costOf(b));
    const primary = eligible[0] ?? byQuality[0]!;
    let first = perProvider.get(primary.name)!;
    if (tier === 'premium' && config.hedgeQuantile > 0) first = first.hedge({ delayMs: config.hedgeDelayMs });
    const rest = byQuality.filter((p) => p.name !== primary.name).map((p) => perProvider.get(p.name)!);
    return rest.length === 0 ? first : first.fallback(...rest);
  };
  const chains = Object.fromEntries(TIERS.map((t) => [t, chainFor(t)])) as Record<Tier, StreamPrimitive<ChatRequest, ChatChunk>>;
  const routed = routeStream((req: ChatRequest) => req.tier, chains, { name: 'chat_tier' });

  // Reserved before the stream: the prompt and every token it may produce, at the dearest provider.
  const dearest = Math.max(...providers.map((p) => Math.max(prices.price(p.model)!.input, prices.price(p.model)!.output)));
  const estimate = (req: ChatRequest): number => ((req.messages.reduce((n, m) => n + m.content.length / 4, 0) + 40 + req.maxTokens) * dearest) / 1e6;
  const keyOf = (_: unknown, ctx: RunContext): string => String(ctx.attributes[KEY_ID_ATTRIBUTE]);
  const guarded = routed.around((whole) => {
    const perKey = Object.fromEntries(
      keys.map((key) => {
        const limiter = new RateLimiter({ key: `ratelimit.chat.${key.id}`, name: 'ratelimit.chat.per_key', rate: config.rateLimitRps, per: 1_000, burst: config.rateLimitBurst, ...(stores.rateLimit ? { store: stores.rateLimit } : {}) });
        return [key.id, budget(whole, { name: 'daily', window: { limit: key.dailyBudgetUsd, windowMs: DAY_MS }, key: () => key.id, estimate, store: stores.budget, localAllowance: config.budgetLocalAllowanceUsd }).rateLimit(limiter)];
      }),
    );
    return route(keyOf, perKey, { name: 'chat_budget', reportAs: 'per_key' });
  });
  return config.cacheTtlMs > 0
    ? guarded.cache({ namespace: 'chat', ttlMs: config.cacheTtlMs, key: (req) => `${req.tier}\n${req.maxTokens}\n${JSON.stringify(req.messages)}`, ...(stores.cache ? { store: stores.cache } : {}) })
    : guarded;
}

const sseLine = z.object({
  model: z.string().optional(),
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).optional() })).optional(),
  usage: z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) }).nullish(),
});

/**
 * One provider's streamed chat completion (`stream: true` on its OpenAI-compatible API), read as
 * server-sent events into text deltas and a last usage chunk. Its cost is recorded from the
 * provider's usage chunk, or, when the stream is cut short (the client went away, a fault), from
 * the tokens produced so far (one per four characters), so an aborted stream is charged for what
 * it produced. The signal aborts the HTTP request, which closes its socket.
 */
function providerStream(provider: ProviderConfig, fetch: WeftFetch, prices: PriceTable): StreamPrimitive<ChatRequest, ChatChunk> {
  const url = `${provider.baseUrl}/chat/completions`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (provider.apiKey !== undefined) headers.authorization = `Bearer ${provider.apiKey}`;
  return streamStep({ name: `provider.${provider.name}`, tokens: (c: ChatChunk) => (c.type === 'delta' ? Math.ceil(c.content.length / 4) : 0) }, async function* (req: ChatRequest, ctx) {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: provider.model, max_tokens: req.maxTokens, stream: true, stream_options: { include_usage: true }, messages: req.messages }),
      ctx,
    });
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new ProviderError(provider.name, response.status, `Provider ${provider.name} answered ${response.status}`, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined);
    }
    const promptTokens = Math.ceil(req.messages.reduce((n, m) => n + m.content.length, 0) / 4);
    let produced = '';
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    let model = provider.model;
    let recorded = false;
    const record = (prompt: number, completion: number): void => {
      if (recorded) return;
      recorded = true;
      recordCost(ctx, { model: provider.model, inputTokens: prompt, outputTokens: completion }, { prices });
    };
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const read: { readonly done: boolean; readonly value?: Uint8Array } = await reader.read();
        if (read.done) break;
        buffer += decoder.decode(read.value, { stream: true });
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '))?.slice(6);
          if (data === undefined) continue;
          if (data === '[DONE]') {
            record(usage?.prompt_tokens ?? promptTokens, usage?.completion_tokens ?? Math.ceil(produced.length / 4));
            yield { type: 'usage', provider: provider.name, model, promptTokens: usage?.prompt_tokens ?? promptTokens, completionTokens: usage?.completion_tokens ?? Math.ceil(produced.length / 4) } satisfies ChatChunk;
            return;
          }
          const parsed = sseLine.safeParse(JSONparse(data));
          if (!parsed.success) throw new ProviderError(provider.name, 0, `Provider ${provider.name} streamed something that is not a chat.completion.chunk`);
          if (parsed.data.model) model = parsed.data.model;
          if (parsed.data.usage) usage = parsed.data.usage;
          const content = parsed.data.choices?.[0]?.delta?.content;
          if (content) {
            produced += content;
            yield { type: 'delta', content } satisfies ChatChunk;
          }
        }
      }
      throw new ProviderError(provider.name, 0, `Provider ${provider.name} ended its stream without [DONE]`);
    } finally {
      // Cut short (aborted, faulted): charge what was produced. Cancelling the body closes the socket.
      record(promptTokens, Math.ceil(produced.length / 4));
      await reader.cancel().catch(() => undefined);
    }
  });
}

function JSONparse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a failed provider stream is worth retrying on the same provider, before its first token. */
function isTransient(error: Error): boolean {
  if (isCircuitOpenError(error) || isAbortedError(error)) return false;
  if (isProviderError(error)) return error.transient;
  return isTimeoutError(error) || error.name === 'TypeError';
}
