import { z } from 'zod';

/** The orders service's validated configuration. */
export interface OrdersConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Base URL of the inventory, payments and shipping services; undefined starts the simulated ones on loopback (demo mode). */
  readonly servicesUrl: string | undefined;
  /** Port of the embedded simulated services; 0 picks a free one. */
  readonly simPort: number;
  /** Redis URL; when set, the saga log lives in Redis. */
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  /** Per-call timeout of each service call. */
  readonly serviceTimeoutMs: number;
  /** How long SIGTERM waits for in-flight requests. */
  readonly shutdownTimeoutMs: number;
  readonly otlpEndpoint: string | undefined;
  readonly serviceName: string;
}

/** A bad environment variable: the message names it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

const int = (min: number, max: number) => z.coerce.number({ error: 'a number' }).int({ error: 'an integer' }).min(min, { error: `an integer >= ${min}` }).max(max, { error: `an integer <= ${max}` });
const url = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

const ENV = {
  PORT: int(0, 65_535).default(3001),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'one of trace, debug, info, warn, error, fatal, silent' }).default('info'),
  ORDERS_SERVICES_URL: url.optional(),
  SIM_PORT: int(0, 65_535).default(0),
  REDIS_URL: z.string().regex(/^rediss?:\/\/./, { error: 'a redis:// or rediss:// URL' }).optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, { error: '1-32 letters, digits, _ . or -' }).default('weft-orders'),
  SERVICE_TIMEOUT_MS: int(1, 600_000).default(5_000),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('weft-orders'),
} as const;

/**
 * Reads and validates the configuration from environment variables; a bad value throws a
 * {@link ConfigError} naming the variable.
 *
 * @example
 * ```ts
 * const config = loadConfig({ PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379' });
 * ```
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  const v = <K extends keyof typeof ENV>(name: K): z.output<(typeof ENV)[K]> => {
    const raw = env[name];
    const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
    const parsed = (ENV[name] as unknown as z.ZodType<z.output<(typeof ENV)[K]>>).safeParse(value);
    if (parsed.success) return parsed.data;
    throw new ConfigError(name, `Expected \`${name}\` to be ${parsed.error.issues[0]?.message ?? 'valid'}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  };
  return Object.freeze({
    port: v('PORT'),
    host: v('HOST'),
    logLevel: v('LOG_LEVEL'),
    servicesUrl: v('ORDERS_SERVICES_URL')?.replace(/\/+$/, ''),
    simPort: v('SIM_PORT'),
    redisUrl: v('REDIS_URL'),
    redisPrefix: v('REDIS_PREFIX'),
    serviceTimeoutMs: v('SERVICE_TIMEOUT_MS'),
    shutdownTimeoutMs: v('SHUTDOWN_TIMEOUT_MS'),
    otlpEndpoint: v('OTEL_EXPORTER_OTLP_ENDPOINT'),
    serviceName: v('OTEL_SERVICE_NAME'),
  }) satisfies OrdersConfig;
}
