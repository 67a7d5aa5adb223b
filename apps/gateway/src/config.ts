import { ConfigError, envHttpUrl, envInt, envReader, envTable, loadServiceConfig, readEnv, serviceEnvSchemas, SHARED_ENV_DOCS, type ServiceConfig } from '@weft/service-kit';
import { z } from 'zod';

export { ConfigError } from '@weft/service-kit';

/** Answer tiers a client may ask for, cheapest first. */
export const TIERS = ['economy', 'standard', 'premium'] as const;

/** A tier of service: it sets the minimum provider quality the router accepts. */
export type Tier = (typeof TIERS)[number];

/** One OpenAI-compatible provider the gateway may call. */
export interface ProviderConfig {
  /** The provider's name: route key, metric label and the `provider` field of answers. */
  readonly name: string;
  /** OpenAI base URL, such as `https://api.openai.com/v1`; `/chat/completions` is appended. */
  readonly baseUrl: string;
  /** Bearer key sent to the provider, if it needs one. */
  readonly apiKey: string | undefined;
  /** The model to ask for. */
  readonly model: string;
  /** Relative answer quality from 0 to 1; tiers require a minimum. */
  readonly quality: number;
  /** USD per 1M input tokens, when the built-in price table does not know the model (or to override it). */
  readonly priceInput: number | undefined;
  /** USD per 1M output tokens; given together with `priceInput`. */
  readonly priceOutput: number | undefined;
  /** Most calls in flight to this provider (`<NAME>_MAX_CONCURRENT`). @default the gateway's `providerMaxConcurrent` */
  readonly maxConcurrent?: number | undefined;
  /** Most calls waiting for one of this provider's slots (`<NAME>_MAX_QUEUE`). @default the gateway's `providerMaxQueue` */
  readonly maxQueue?: number | undefined;
  /**
   * Whether calls to this provider carry the caller's correlation ID, trace context and baggage
   * (`<NAME>_PROPAGATE_CONTEXT`). Off for third parties unless set; on for the in-process simulated providers.
   * @default false
   */
  readonly propagateContext?: boolean;
}

/** The gateway's validated configuration: the shared service settings plus its own. */
export interface GatewayConfig extends ServiceConfig {
  /** `simulated`: start `apps/simulated-providers` on loopback and route to it (demo mode). */
  readonly providerMode: 'simulated' | 'configured';
  /** `SIM_HOST`: where the in-process simulated providers (and their admin endpoint) listen in demo mode. @default '127.0.0.1' */
  readonly simHost: string;
  /** The configured providers (empty in simulated mode, where they are made at start-up). */
  readonly providers: readonly ProviderConfig[];
  /** Raw API-key list from the environment (`name:key[:dailyBudgetUsd]`, comma-separated). */
  readonly apiKeys: string | undefined;
  /** A file with one `name:key[:dailyBudgetUsd]` per line. */
  readonly apiKeysFile: string | undefined;
  /** Per-key token bucket: requests per second, and burst. */
  readonly rateLimitRps: number;
  readonly rateLimitBurst: number;
  /** Default daily budget per API key, in USD. */
  readonly dailyBudgetUsd: number;
  /** Answer cache TTL in ms; 0 turns caching off. */
  readonly cacheTtlMs: number;
  /** With Redis: answers also kept in this process (a near cache that keeps hits answering through an outage); 0 turns it off. */
  readonly cacheLocalMax: number;
  /** With Redis: the longest this process serves its own copy of an answer. */
  readonly cacheLocalTtlMs: number;
  /** While the budget store is unreachable: what each key may still spend per day through this process, in USD; 0 refuses new spend (fail closed). */
  readonly budgetLocalAllowanceUsd: number;
  /** Per-attempt provider timeout. */
  readonly providerTimeoutMs: number;
  /** Retries per provider on transient failures. */
  readonly providerRetries: number;
  /** Consecutive failures that open a provider's circuit breaker, and how long it stays open. */
  readonly breakerThreshold: number;
  readonly breakerOpenMs: number;
  /** Deadline of one whole answer (all providers, retries and fallbacks). */
  readonly requestTimeoutMs: number;
  /** Most output tokens asked of a provider. */
  readonly maxTokens: number;
  /**
   * Per-provider bulkhead: calls in flight to one provider at once, and calls waiting for a slot.
   * A call that finds both full skips to the next provider; when every provider is full the answer
   * is 503 `providers_unavailable`.
   */
  readonly providerMaxConcurrent: number;
  readonly providerMaxQueue: number;
  /**
   * Premium-tier provider calls start a second (hedged) attempt once the first has taken this
   * quantile of recent successful latencies; 0 turns hedging off.
   */
  readonly hedgeQuantile: number;
  /** The hedge delay until enough latencies are known for the quantile (the first 20 calls). */
  readonly hedgeDelayMs: number;
}

const positive = z.coerce.number({ error: 'a number' }).positive({ error: 'a number > 0' }).refine(Number.isFinite, { error: 'a finite number' });

/** The variables only the gateway reads, with schema and default (the shared ones are read by `loadServiceConfig`). Empty strings count as unset. */
const ENV = {
  GATEWAY_PROVIDERS: z
    .string()
    .regex(/^(simulated|[a-z][a-z0-9_]{0,31}(,[a-z][a-z0-9_]{0,31})*)$/, { error: '"simulated" or comma-separated provider names (lowercase letters, digits, _)' })
    .default('simulated'),
  GATEWAY_API_KEYS: z.string().optional(),
  GATEWAY_DEMO: z.enum(['true', 'false'], { error: 'true or false' }).optional(),
  SIM_HOST: z.enum(['127.0.0.1', '0.0.0.0', '::1', '::'], { error: 'a loopback or any-address host' }).default('127.0.0.1'),
  GATEWAY_API_KEYS_FILE: z.string().optional(),
  RATE_LIMIT_RPS: positive.default(10),
  RATE_LIMIT_BURST: positive.default(20),
  DAILY_BUDGET_USD: positive.default(5),
  CACHE_TTL_MS: envInt(0, 86_400_000).default(300_000),
  CACHE_LOCAL_MAX: envInt(0, 1_000_000).default(1_000),
  CACHE_LOCAL_TTL_MS: envInt(1, 86_400_000).default(60_000),
  BUDGET_LOCAL_ALLOWANCE_USD: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number >= 0' }).refine(Number.isFinite, { error: 'a finite number' }).default(0),
  PROVIDER_TIMEOUT_MS: envInt(1, 600_000).default(10_000),
  PROVIDER_RETRIES: envInt(0, 10).default(1),
  BREAKER_THRESHOLD: envInt(1, 1_000).default(5),
  BREAKER_OPEN_MS: envInt(1, 3_600_000).default(10_000),
  REQUEST_TIMEOUT_MS: envInt(1, 600_000).default(30_000),
  MAX_TOKENS: envInt(1, 100_000).default(256),
  PROVIDER_MAX_CONCURRENT: envInt(1, 10_000).default(32),
  PROVIDER_MAX_QUEUE: envInt(0, 100_000).default(32),
  HEDGE_QUANTILE: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number from 0 (off) to 1' }).max(1, { error: 'a number from 0 (off) to 1' }).default(0.95),
  HEDGE_DELAY_MS: envInt(0, 600_000).default(2_000),
} as const;

/** What each gateway variable means, for the generated reference in the gateway's README. */
const ENV_DOCS: Readonly<Record<keyof typeof ENV, string>> = {
  GATEWAY_PROVIDERS: '`simulated` (in-process demo providers), or comma-separated provider names, each configured by the `<NAME>_*` variables below.',
  GATEWAY_API_KEYS: 'Comma-separated API keys: `name:key` or `name:key:dailyBudgetUsd`. Required with real providers.',
  GATEWAY_DEMO: 'Allows the simulated providers and the demo keys; in production (`NODE_ENV=production`) they run only when this is `true`.',
  SIM_HOST: "Where the simulated providers and their admin endpoint listen in demo mode.",
  GATEWAY_API_KEYS_FILE: 'A file of API keys, one `name:key[:dailyBudgetUsd]` per line (`#` comments), instead of or beside `GATEWAY_API_KEYS`.',
  RATE_LIMIT_RPS: 'Requests per second each key may make.',
  RATE_LIMIT_BURST: 'Requests a key may make at once before the rate applies.',
  DAILY_BUDGET_USD: 'Daily budget of a key that sets none, in USD, over a rolling 24 hours.',
  CACHE_TTL_MS: 'How long answers (and completed streams) are cached; 0 turns the cache off.',
  CACHE_LOCAL_MAX: 'With `REDIS_URL`: answers this process also keeps in memory, in front of Redis, so cache hits keep answering while Redis is down; 0 turns the local copy off.',
  CACHE_LOCAL_TTL_MS: "With `REDIS_URL`: the longest this process serves its own copy of an answer (and so how long hits outlive a Redis outage).",
  BUDGET_LOCAL_ALLOWANCE_USD: 'While the budget store (Redis) is unreachable: what each key may still spend per rolling day through this process, in USD, counted in `weft_budget_degraded_calls_total`; 0 refuses new spend (503 `budget_unavailable`). The overspend an outage can cause is at most this, per key, per gateway process.',
  PROVIDER_TIMEOUT_MS: "Timeout of one provider call; for streams, of the first token and of each gap between tokens.",
  PROVIDER_RETRIES: 'Retries of a transient provider failure, on the same provider, before falling back.',
  BREAKER_THRESHOLD: "Consecutive failures that open a provider's circuit breaker.",
  BREAKER_OPEN_MS: 'How long an open breaker refuses calls before a probe.',
  REQUEST_TIMEOUT_MS: 'Deadline of a whole request, every retry and fallback included.',
  MAX_TOKENS: 'Most output tokens asked of a provider; budgets reserve them before each call.',
  PROVIDER_MAX_CONCURRENT: "Calls in flight to one provider (its bulkhead's slots), unless `<NAME>_MAX_CONCURRENT` says otherwise.",
  PROVIDER_MAX_QUEUE: "Calls waiting for one provider's slot, unless `<NAME>_MAX_QUEUE` says otherwise.",
  HEDGE_QUANTILE: "Premium calls start a second attempt after this quantile of the provider's recent latencies; 0 turns hedging off.",
  HEDGE_DELAY_MS: 'The hedge delay until enough latencies are known (and for streams, always).',
};

/** What each `<NAME>_*` provider variable means. */
const PROVIDER_DOCS: Readonly<Record<keyof typeof PROVIDER_FIELDS, string>> = {
  BASE_URL: "The provider's OpenAI-compatible base URL, such as `https://api.openai.com/v1`.",
  API_KEY: 'Bearer key sent to the provider.',
  MODEL: 'The model to ask for.',
  QUALITY: 'Relative answer quality from 0 to 1; tiers require a minimum (standard 0.7, premium 0.85).',
  PRICE_INPUT: 'USD per 1M input tokens, when the built-in price table does not know the model.',
  PRICE_OUTPUT: 'USD per 1M output tokens; set together with `PRICE_INPUT`.',
  MAX_CONCURRENT: 'Calls in flight to this provider.',
  MAX_QUEUE: "Calls waiting for this provider's slot.",
  PROPAGATE_CONTEXT: "`true` sends the caller's correlation ID, trace context and baggage to this provider.",
};

/**
 * The gateway's environment reference, as the README shows it: the shared variables, the
 * gateway's own, and each provider's `<NAME>_*` ones, with defaults read from the schemas.
 *
 * @example
 * ```ts
 * console.log(environmentReference());
 * ```
 */
export function environmentReference(): string {
  const provider = Object.fromEntries(Object.entries(PROVIDER_FIELDS).map(([k, schema]) => [`<NAME>_${k}`, schema]));
  const providerDocs = Object.fromEntries(Object.entries(PROVIDER_DOCS).map(([k, doc]) => [`<NAME>_${k}`, doc]));
  return [
    '### Shared with the other services',
    '',
    envTable(serviceEnvSchemas({ name: 'gateway', port: 3000 }), SHARED_ENV_DOCS),
    '',
    '### The gateway',
    '',
    envTable(ENV, ENV_DOCS),
    '',
    '### Each provider (`<NAME>` is its name in `GATEWAY_PROVIDERS`, upper-cased)',
    '',
    envTable(provider, providerDocs),
  ].join('\n');
}

const PROVIDER_FIELDS = {
  BASE_URL: envHttpUrl,
  API_KEY: z.string().min(1).optional(),
  MODEL: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,99}$/, { error: 'a model id' }),
  QUALITY: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number from 0 to 1' }).max(1, { error: 'a number from 0 to 1' }).default(0.7),
  PRICE_INPUT: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number >= 0' }).optional(),
  PRICE_OUTPUT: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number >= 0' }).optional(),
  MAX_CONCURRENT: envInt(1, 10_000).optional(),
  MAX_QUEUE: envInt(0, 100_000).optional(),
  PROPAGATE_CONTEXT: z.enum(['true', 'false'], { error: 'true or false' }).default('false'),
} as const;

/**
 * Reads and validates the gateway's configuration from environment variables. A bad value throws a
 * {@link ConfigError} whose message names the variable: ``Expected `PORT` to be an integer <= 65535, got "70000"``.
 *
 * @example
 * ```ts
 * const config = loadConfig({ PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379' });
 * ```
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const v = envReader(env, ENV);
  const providerList = v('GATEWAY_PROVIDERS');
  const providers: ProviderConfig[] = [];
  if (providerList !== 'simulated') {
    for (const name of providerList.split(',')) {
      const prefix = `${name.toUpperCase()}_`;
      const p = <K extends keyof typeof PROVIDER_FIELDS>(field: K): z.output<(typeof PROVIDER_FIELDS)[K]> =>
        readEnv(env, `${prefix}${field}`, PROVIDER_FIELDS[field] as unknown as z.ZodType<z.output<(typeof PROVIDER_FIELDS)[K]>>);
      const priceInput = p('PRICE_INPUT');
      const priceOutput = p('PRICE_OUTPUT');
      if ((priceInput === undefined) !== (priceOutput === undefined)) {
        const missing = priceInput === undefined ? `${prefix}PRICE_INPUT` : `${prefix}PRICE_OUTPUT`;
        throw new ConfigError(missing, `Expected \`${missing}\` to be set together with \`${priceInput === undefined ? `${prefix}PRICE_OUTPUT` : `${prefix}PRICE_INPUT`}\``);
      }
      const limits = { maxConcurrent: p('MAX_CONCURRENT'), maxQueue: p('MAX_QUEUE') };
      providers.push({ name, baseUrl: p('BASE_URL').replace(/\/+$/, ''), apiKey: p('API_KEY'), model: p('MODEL'), quality: p('QUALITY'), priceInput, priceOutput, ...definedOnly(limits), propagateContext: p('PROPAGATE_CONTEXT') === 'true' });
    }
  }
  const rateLimitRps = v('RATE_LIMIT_RPS');
  const rateLimitBurst = v('RATE_LIMIT_BURST');
  if (rateLimitBurst < 1) throw new ConfigError('RATE_LIMIT_BURST', `Expected \`RATE_LIMIT_BURST\` to be a number >= 1, got ${JSON.stringify(String(rateLimitBurst))}`);
  // Safe by default: in production the simulated providers and their demo keys, which the README
  // prints, run only when asked for by name.
  const demoAllowed = v('GATEWAY_DEMO') === 'true' || (v('GATEWAY_DEMO') === undefined && env.NODE_ENV !== 'production');
  if (providerList === 'simulated' && !demoAllowed) {
    throw new ConfigError('GATEWAY_PROVIDERS', 'Expected `GATEWAY_PROVIDERS` to name real providers (with `GATEWAY_API_KEYS`, from a Secret) in production; to run the demo with simulated providers and the README\'s demo keys, set `GATEWAY_DEMO=true`');
  }
  return Object.freeze({
    ...loadServiceConfig(env, { name: 'gateway', port: 3000 }),
    simHost: v('SIM_HOST'),
    providerMode: providerList === 'simulated' ? 'simulated' : 'configured',
    providers: Object.freeze(providers),
    apiKeys: v('GATEWAY_API_KEYS'),
    apiKeysFile: v('GATEWAY_API_KEYS_FILE'),
    rateLimitRps,
    rateLimitBurst,
    dailyBudgetUsd: v('DAILY_BUDGET_USD'),
    cacheTtlMs: v('CACHE_TTL_MS'),
    cacheLocalMax: v('CACHE_LOCAL_MAX'),
    cacheLocalTtlMs: v('CACHE_LOCAL_TTL_MS'),
    budgetLocalAllowanceUsd: v('BUDGET_LOCAL_ALLOWANCE_USD'),
    providerTimeoutMs: v('PROVIDER_TIMEOUT_MS'),
    providerRetries: v('PROVIDER_RETRIES'),
    breakerThreshold: v('BREAKER_THRESHOLD'),
    breakerOpenMs: v('BREAKER_OPEN_MS'),
    requestTimeoutMs: v('REQUEST_TIMEOUT_MS'),
    maxTokens: v('MAX_TOKENS'),
    providerMaxConcurrent: v('PROVIDER_MAX_CONCURRENT'),
    providerMaxQueue: v('PROVIDER_MAX_QUEUE'),
    hedgeQuantile: v('HEDGE_QUANTILE'),
    hedgeDelayMs: v('HEDGE_DELAY_MS'),
  }) satisfies GatewayConfig;
}

/** The entries whose value is set, so an unset per-provider limit leaves no `undefined` key behind. */
function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
