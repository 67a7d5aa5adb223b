import { z } from 'zod';

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
}

/** The gateway's validated configuration. */
export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** `simulated`: start `apps/simulated-providers` on loopback and route to it (demo mode). */
  readonly providerMode: 'simulated' | 'configured';
  /** The configured providers (empty in simulated mode, where they are made at start-up). */
  readonly providers: readonly ProviderConfig[];
  /** Port of the embedded simulated providers (demo mode); 0 picks a free one. */
  readonly simPort: number;
  /** Raw API-key list from the environment (`name:key[:dailyBudgetUsd]`, comma-separated). */
  readonly apiKeys: string | undefined;
  /** A file with one `name:key[:dailyBudgetUsd]` per line. */
  readonly apiKeysFile: string | undefined;
  /** Redis connection URL; when set, every store (cache, budget, rate limit, breakers) lives in Redis. */
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  /** Per-key token bucket: requests per second, and burst. */
  readonly rateLimitRps: number;
  readonly rateLimitBurst: number;
  /** Default daily budget per API key, in USD. */
  readonly dailyBudgetUsd: number;
  /** Answer cache TTL in ms; 0 turns caching off. */
  readonly cacheTtlMs: number;
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
  /** How long SIGTERM waits for in-flight requests before closing their connections. */
  readonly shutdownTimeoutMs: number;
  /** OTLP/HTTP trace endpoint; tracing is exported only when set. */
  readonly otlpEndpoint: string | undefined;
  readonly serviceName: string;
}

/** A bad environment variable: the message names it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    /** The variable that failed. */
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

const int = (min: number, max: number) => z.coerce.number({ error: 'a number' }).int({ error: 'an integer' }).min(min, { error: `an integer >= ${min}` }).max(max, { error: `an integer <= ${max}` });
const positive = z.coerce.number({ error: 'a number' }).positive({ error: 'a number > 0' }).refine(Number.isFinite, { error: 'a finite number' });
const url = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

/** Every variable the gateway reads, with its schema and default. Empty strings count as unset. */
const ENV = {
  PORT: int(0, 65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'one of trace, debug, info, warn, error, fatal, silent' }).default('info'),
  GATEWAY_PROVIDERS: z
    .string()
    .regex(/^(simulated|[a-z][a-z0-9_]{0,31}(,[a-z][a-z0-9_]{0,31})*)$/, { error: '"simulated" or comma-separated provider names (lowercase letters, digits, _)' })
    .default('simulated'),
  SIM_PORT: int(0, 65_535).default(0),
  GATEWAY_API_KEYS: z.string().optional(),
  GATEWAY_API_KEYS_FILE: z.string().optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\/./, { error: 'a redis:// or rediss:// URL' }).optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, { error: '1-32 letters, digits, _ . or -' }).default('weft-gateway'),
  RATE_LIMIT_RPS: positive.default(10),
  RATE_LIMIT_BURST: positive.default(20),
  DAILY_BUDGET_USD: positive.default(5),
  CACHE_TTL_MS: int(0, 86_400_000).default(300_000),
  PROVIDER_TIMEOUT_MS: int(1, 600_000).default(10_000),
  PROVIDER_RETRIES: int(0, 10).default(1),
  BREAKER_THRESHOLD: int(1, 1_000).default(5),
  BREAKER_OPEN_MS: int(1, 3_600_000).default(10_000),
  REQUEST_TIMEOUT_MS: int(1, 600_000).default(30_000),
  MAX_TOKENS: int(1, 100_000).default(256),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('weft-gateway'),
} as const;

const PROVIDER_FIELDS = {
  BASE_URL: url,
  API_KEY: z.string().min(1).optional(),
  MODEL: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,99}$/, { error: 'a model id' }),
  QUALITY: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number from 0 to 1' }).max(1, { error: 'a number from 0 to 1' }).default(0.7),
  PRICE_INPUT: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number >= 0' }).optional(),
  PRICE_OUTPUT: z.coerce.number({ error: 'a number' }).min(0, { error: 'a number >= 0' }).optional(),
} as const;

function read<T>(env: NodeJS.ProcessEnv, variable: string, schema: z.ZodType<T>): T {
  const raw = env[variable];
  const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const expected = issue?.code === 'invalid_type' && value === undefined ? 'set' : (issue?.message ?? 'valid');
  const shown = value === undefined ? 'nothing' : variable.endsWith('API_KEY') || variable.endsWith('API_KEYS') ? 'a value (hidden)' : JSON.stringify(value);
  throw new ConfigError(variable, `Expected \`${variable}\` to be ${expected}, got ${shown}`);
}

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
  const v = <K extends keyof typeof ENV>(name: K): z.output<(typeof ENV)[K]> => read(env, name, ENV[name] as unknown as z.ZodType<z.output<(typeof ENV)[K]>>);
  const providerList = v('GATEWAY_PROVIDERS');
  const providers: ProviderConfig[] = [];
  if (providerList !== 'simulated') {
    for (const name of providerList.split(',')) {
      const prefix = `${name.toUpperCase()}_`;
      const p = <K extends keyof typeof PROVIDER_FIELDS>(field: K): z.output<(typeof PROVIDER_FIELDS)[K]> =>
        read(env, `${prefix}${field}`, PROVIDER_FIELDS[field] as unknown as z.ZodType<z.output<(typeof PROVIDER_FIELDS)[K]>>);
      const priceInput = p('PRICE_INPUT');
      const priceOutput = p('PRICE_OUTPUT');
      if ((priceInput === undefined) !== (priceOutput === undefined)) {
        const missing = priceInput === undefined ? `${prefix}PRICE_INPUT` : `${prefix}PRICE_OUTPUT`;
        throw new ConfigError(missing, `Expected \`${missing}\` to be set together with \`${priceInput === undefined ? `${prefix}PRICE_OUTPUT` : `${prefix}PRICE_INPUT`}\``);
      }
      providers.push({ name, baseUrl: p('BASE_URL').replace(/\/+$/, ''), apiKey: p('API_KEY'), model: p('MODEL'), quality: p('QUALITY'), priceInput, priceOutput });
    }
  }
  const rateLimitRps = v('RATE_LIMIT_RPS');
  const rateLimitBurst = v('RATE_LIMIT_BURST');
  if (rateLimitBurst < 1) throw new ConfigError('RATE_LIMIT_BURST', `Expected \`RATE_LIMIT_BURST\` to be a number >= 1, got ${JSON.stringify(String(rateLimitBurst))}`);
  return Object.freeze({
    port: v('PORT'),
    host: v('HOST'),
    logLevel: v('LOG_LEVEL'),
    providerMode: providerList === 'simulated' ? 'simulated' : 'configured',
    providers: Object.freeze(providers),
    simPort: v('SIM_PORT'),
    apiKeys: v('GATEWAY_API_KEYS'),
    apiKeysFile: v('GATEWAY_API_KEYS_FILE'),
    redisUrl: v('REDIS_URL'),
    redisPrefix: v('REDIS_PREFIX'),
    rateLimitRps,
    rateLimitBurst,
    dailyBudgetUsd: v('DAILY_BUDGET_USD'),
    cacheTtlMs: v('CACHE_TTL_MS'),
    providerTimeoutMs: v('PROVIDER_TIMEOUT_MS'),
    providerRetries: v('PROVIDER_RETRIES'),
    breakerThreshold: v('BREAKER_THRESHOLD'),
    breakerOpenMs: v('BREAKER_OPEN_MS'),
    requestTimeoutMs: v('REQUEST_TIMEOUT_MS'),
    maxTokens: v('MAX_TOKENS'),
    shutdownTimeoutMs: v('SHUTDOWN_TIMEOUT_MS'),
    otlpEndpoint: v('OTEL_EXPORTER_OTLP_ENDPOINT'),
    serviceName: v('OTEL_SERVICE_NAME'),
  }) satisfies GatewayConfig;
}
