import {
  budget,
  Bulkhead,
  byCost,
  CircuitBreaker,
  createPriceTable,
  isAbortedError,
  isCircuitOpenError,
  isTimeoutError,
  isValidationError,
  RateLimiter,
  route,
  sequence,
  step,
  type HedgeOptions,
  type ModelPrice,
  type Primitive,
  type PriceTable,
} from '@weft/core';
import type { WeftFetch } from '@weft/http';
import { shareCircuitBreaker, type SharedCircuitBreaker } from '@weft/redis';
import { z } from 'zod';
import type { ApiKey } from './auth.js';
import { ConfigError, TIERS, type GatewayConfig, type ProviderConfig, type Tier } from './config.js';
import { openAiCompatible, type ProviderAnswer, type ProviderRequest } from './providers/openai-compatible.js';
import { isProviderError } from './providers/provider-error.js';
import type { Stores } from './stores.js';

/** The body of `POST /v1/answer`. */
const answerBodySchema = z.strictObject({
  question: z.string().trim().min(1).max(4_000),
  tier: z.enum(TIERS).default('standard'),
});

/** The least provider quality each tier accepts; the router picks the cheapest provider that meets it. */
const TIER_MIN_QUALITY: Readonly<Record<Tier, number>> = { economy: 0, standard: 0.7, premium: 0.85 };

/** The tier whose provider calls are hedged: the one that pays for the dearest model, and for its tail latency. */
const HEDGED_TIER: Tier = 'premium';

/** The run attribute carrying the caller's key ID (a hash prefix, never the key). */
export const KEY_ID_ATTRIBUTE = 'gateway.key_id';

/** Tokens the system prompt and message framing add to a question, generously counted. */
const PROMPT_OVERHEAD_TOKENS = 40;

/** Daily budget window. */
const DAY_MS = 86_400_000;

/** The answer workflow and what it holds that needs stopping. */
export interface AnswerWorkflow {
  /** Takes the raw request body; the run's `attributes[KEY_ID_ATTRIBUTE]` says whose request it is. */
  readonly answer: Primitive<unknown, ProviderAnswer>;
  /** The providers' circuit breakers, by provider name. */
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  /** The providers' bulkheads (calls in flight and queued), by provider name. */
  readonly bulkheads: ReadonlyMap<string, Bulkhead>;
  /** Stops sharing breaker state through Redis. */
  stop(): void;
}

/** What {@link buildAnswerWorkflow} needs. */
export interface AnswerWorkflowDeps {
  readonly config: GatewayConfig;
  readonly providers: readonly ProviderConfig[];
  readonly keys: readonly ApiKey[];
  readonly stores: Stores;
  readonly fetch: WeftFetch;
}

/**
 * Builds the one workflow behind `POST /v1/answer`:
 *
 * 1. a per-key rate limit (token bucket per key ID, in the rate-limit store),
 * 2. validation of the body with zod,
 * 3. the answer cache (keyed by tier and normalised question, shared by every key),
 * 4. the per-key daily budget (`daily:<key id>` in the budget store), around
 * 5. cost-aware routing: the cheapest provider whose quality meets the tier, falling back down
 *    the rest of the providers, best quality first; each provider call has a per-attempt timeout,
 *    a circuit breaker, a bulkhead and retries for transient failures, and records its cost.
 *
 * The bulkhead (`provider.<name>`, `PROVIDER_MAX_CONCURRENT` slots and `PROVIDER_MAX_QUEUE` places
 * per provider) keeps one slow provider from holding every socket and request of the gateway. It
 * sits outside the breaker, so a full pool never counts as the provider failing, and inside the
 * retry, so a slot is held only while a request is on the wire, not through backoff. A call that
 * finds the pool full is not retried: it falls back to the next provider at once, and when every
 * provider is full the request fails with a `FallbackError` (HTTP 503 `providers_unavailable`,
 * with the correlation ID).
 *
 * Calls of the {@link HEDGED_TIER} are hedged: once the first attempt has taken the
 * `HEDGE_QUANTILE` of that provider's recent premium latencies, a second attempt to the same
 * provider starts (it takes a bulkhead slot like any call), and the first answer wins. A failed
 * hedge waits for the first attempt; a failed first attempt (its retries spent) goes straight to
 * the fallback chain, since the hedge asks the same, failing, provider. Other tiers are never
 * hedged: a hedge can double the spend of a slow call.
 *
 * @example
 * ```ts
 * const { answer } = buildAnswerWorkflow({ config, providers, keys: keys.list(), stores, fetch: weftFetch });
 * const { output, cost } = await answer.runDetailed({ question: 'Why?' }, { attributes: { [KEY_ID_ATTRIBUTE]: key.id } });
 * ```
 */
export function buildAnswerWorkflow(deps: AnswerWorkflowDeps): AnswerWorkflow {
  const { config, providers, keys, stores } = deps;
  if (providers.length === 0) throw new TypeError('Expected `providers` to name at least one provider');
  if (keys.length === 0) throw new TypeError('Expected `keys` to hold at least one API key');
  const prices = priceTable(providers);
  const breakers = new Map<string, CircuitBreaker>();
  const bulkheads = new Map<string, Bulkhead>();
  const shared: SharedCircuitBreaker[] = [];

  const resilient = (p: ProviderConfig): Primitive<ProviderRequest, ProviderAnswer> => {
    const breaker = new CircuitBreaker({ name: `provider.${p.name}`, threshold: config.breakerThreshold, openMs: config.breakerOpenMs });
    breakers.set(p.name, breaker);
    if (stores.redis !== undefined) shared.push(shareCircuitBreaker(breaker, stores.redis));
    const pool = new Bulkhead({ name: `provider.${p.name}`, maxConcurrent: p.maxConcurrent ?? config.providerMaxConcurrent, maxQueue: p.maxQueue ?? config.providerMaxQueue });
    bulkheads.set(p.name, pool);
    return openAiCompatible(p, { fetch: deps.fetch, maxTokens: config.maxTokens, prices })
      .timeout(config.providerTimeoutMs)
      .circuitBreaker(breaker)
      .bulkhead(pool)
      .retry({ retries: config.providerRetries, minDelay: 100, maxDelay: 2_000, retryOn: isTransient });
  };
  const calls = new Map(providers.map((p) => [p.name, resilient(p)]));
  const byQuality = [...providers].sort((a, b) => b.quality - a.quality);

  // One chain per primary: the primary, then every other provider, best quality first.
  const chainsOf = (table: ReadonlyMap<string, Primitive<ProviderRequest, ProviderAnswer>>): Record<string, Primitive<ProviderRequest, ProviderAnswer>> => {
    const chains: Record<string, Primitive<ProviderRequest, ProviderAnswer>> = {};
    for (const p of providers) {
      const primary = table.get(p.name)!;
      const rest = byQuality.filter((q) => q.name !== p.name).map((q) => table.get(q.name)!);
      chains[p.name] = rest.length === 0 ? primary : primary.fallback(rest[0]!, ...rest.slice(1), { when: (error) => !isAbortedError(error) });
    }
    return chains;
  };
  const meta = Object.fromEntries(providers.map((p) => [p.name, { cost: prices.cost(p.model, 1_000, 1_000), quality: p.quality }]));
  const cheapestGoodEnough = byCost(meta, { requirement: (req: ProviderRequest) => ({ minQuality: TIER_MIN_QUALITY[req.tier] }) });
  const routeOver = (table: ReadonlyMap<string, Primitive<ProviderRequest, ProviderAnswer>>) =>
    route(cheapestGoodEnough, chainsOf(table), { name: 'providers', default: byQuality[0]!.name });
  const unhedged = routeOver(calls);
  const hedging = hedgeOptions(config);
  const routed =
    hedging === undefined
      ? unhedged
      : route((req: ProviderRequest) => (req.tier === HEDGED_TIER ? 'hedged' : 'unhedged'), { hedged: routeOver(new Map([...calls].map(([name, call]) => [name, call.hedge(hedging)]))), unhedged }, { name: 'hedging' });

  // The worst case, reserved before the call and settled to the actual cost after: the prompt and
  // every output token it may produce (`MAX_TOKENS`), at the dearest provider, times the attempts
  // that may run at once (a hedged premium call runs two). So concurrent calls never overspend.
  const worst = (inputTokens: number): number => Math.max(...providers.map((p) => prices.cost(p.model, inputTokens, config.maxTokens)));
  const estimate = (req: ProviderRequest): number => worst(Math.ceil(req.question.length / 4) + PROMPT_OVERHEAD_TOKENS) * (hedging !== undefined && req.tier === HEDGED_TIER ? 2 : 1);

  const keyOf = (_: unknown, ctx: { attributes: Readonly<Record<string, unknown>> }): string => String(ctx.attributes[KEY_ID_ATTRIBUTE]);
  const budgeted: Record<string, Primitive<ProviderRequest, ProviderAnswer>> = {};
  const limited: Record<string, Primitive<unknown, unknown>> = {};
  const pass = step('admit', (body: unknown) => body);
  for (const key of keys) {
    budgeted[key.id] = budget(routed, { name: 'daily', window: { limit: key.dailyBudgetUsd, windowMs: DAY_MS }, key: () => key.id, estimate, store: stores.budget, localAllowance: config.budgetLocalAllowanceUsd });
    const limiter = new RateLimiter({ key: `ratelimit.${key.id}`, name: 'ratelimit.per_key', rate: config.rateLimitRps, per: 1_000, burst: config.rateLimitBurst, ...(stores.rateLimit ? { store: stores.rateLimit } : {}) });
    limited[key.id] = pass.rateLimit(limiter);
  }
  const perKeyBudget = route(keyOf, budgeted, { name: 'budget', reportAs: 'per_key' });
  const cached =
    config.cacheTtlMs > 0
      ? perKeyBudget.cache({ namespace: 'answers', ttlMs: config.cacheTtlMs, key: (req) => `${req.tier}\n${normalise(req.question)}`, ...(stores.cache ? { store: stores.cache } : {}) })
      : perKeyBudget;
  // The schema checks the raw body at run time, so the step honestly takes `unknown`.
  const validate = step({ name: 'validate', input: answerBodySchema }, (req): ProviderRequest => req) as unknown as Primitive<unknown, ProviderRequest>;
  const answer = sequence(route(keyOf, limited, { name: 'ratelimit', reportAs: 'per_key' }), validate, cached);

  return {
    answer,
    breakers,
    bulkheads,
    stop: () => {
      for (const s of shared) s.stop();
    },
  };
}

/** Whether a failed provider attempt is worth retrying on the same provider. */
function isTransient(error: Error): boolean {
  if (isCircuitOpenError(error) || isValidationError(error) || isAbortedError(error)) return false;
  if (isProviderError(error)) return error.transient;
  // Timeouts of the attempt, and network failures (fetch's TypeError), are transient.
  return isTimeoutError(error) || error.name === 'TypeError';
}

/**
 * How premium provider calls are hedged, or undefined when `HEDGE_QUANTILE` is 0: one extra attempt
 * after the quantile of the provider's recent latencies. Only a failed hedge (attempt 2) is waited
 * out; a failed first attempt ends the call, so the fallback chain moves on to the next provider.
 */
function hedgeOptions(config: GatewayConfig): HedgeOptions | undefined {
  if (config.hedgeQuantile === 0) return undefined;
  return { delay: { quantile: config.hedgeQuantile, fallbackMs: config.hedgeDelayMs }, maxAttempts: 2, hedgeOnError: (_error, attempt) => attempt > 1 };
}

/** Built-in prices plus the providers' own, so every provider's model is priced. */
export function priceTable(providers: readonly ProviderConfig[]): PriceTable {
  const overrides: Record<string, ModelPrice> = {};
  for (const p of providers) if (p.priceInput !== undefined && p.priceOutput !== undefined) overrides[p.model] = { input: p.priceInput, output: p.priceOutput };
  const table = createPriceTable(overrides);
  for (const p of providers) {
    const prefix = p.name.toUpperCase();
    if (table.price(p.model) === undefined) throw new ConfigError(`${prefix}_PRICE_INPUT`, `Expected \`${prefix}_PRICE_INPUT\` and \`${prefix}_PRICE_OUTPUT\` to be set: the built-in price table does not know model "${p.model}"`);
  }
  return table;
}

/** Questions that differ only in case and spacing share a cache entry. */
function normalise(question: string): string {
  return question.trim().replace(/\s+/g, ' ').toLowerCase();
}
