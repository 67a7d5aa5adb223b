import { z } from 'zod';
import { ConfigError } from './config-error.js';

/** The pino log levels a service accepts in `LOG_LEVEL`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A schema for an integer variable from `min` to `max`, whose error messages read well after
 * "Expected `X` to be": ``an integer <= 65535``.
 *
 * @example
 * ```ts
 * const ENV = { SERVICE_TIMEOUT_MS: envInt(1, 600_000).default(5_000) };
 * ```
 */
export function envInt(min: number, max: number) {
  return z.coerce.number({ error: 'a number' }).int({ error: 'an integer' }).min(min, { error: `an integer >= ${min}` }).max(max, { error: `an integer <= ${max}` });
}

/**
 * A schema for an http(s) URL variable.
 *
 * @example
 * ```ts
 * const ENV = { ORDERS_SERVICES_URL: envHttpUrl.optional() };
 * ```
 */
export const envHttpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

/** Whether a variable holds a secret whose value an error message must not show. */
function isSecret(variable: string): boolean {
  return variable.endsWith('API_KEY') || variable.endsWith('API_KEYS');
}

/**
 * Reads one environment variable through a zod schema. Values are trimmed and empty strings count
 * as unset. A bad value throws a {@link ConfigError} naming the variable:
 * ``Expected `PORT` to be an integer <= 65535, got "70000"`` (values of `*_API_KEY(S)` are hidden).
 *
 * @example
 * ```ts
 * const port = readEnv(process.env, 'PORT', envInt(0, 65_535).default(3000));
 * ```
 */
export function readEnv<T>(env: NodeJS.ProcessEnv, variable: string, schema: z.ZodType<T>): T {
  const raw = env[variable];
  const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const expected = issue?.code === 'invalid_type' && value === undefined ? 'set' : (issue?.message ?? 'valid');
  const shown = value === undefined ? 'nothing' : isSecret(variable) ? 'a value (hidden)' : JSON.stringify(value);
  throw new ConfigError(variable, `Expected \`${variable}\` to be ${expected}, got ${shown}`);
}

/** Reads one variable of a schema map, typed by its schema. */
export type EnvReader<S extends Readonly<Record<string, z.ZodType>>> = <K extends keyof S & string>(variable: K) => z.output<S[K]>;

/**
 * A typed reader over a map from variable names to schemas: `v('PORT')` is {@link readEnv} with
 * the map's schema for `PORT`. Variables are read (and fail) in the order the caller asks for them.
 *
 * @example
 * ```ts
 * const v = envReader(process.env, { SERVICE_TIMEOUT_MS: envInt(1, 600_000).default(5_000) });
 * const timeoutMs = v('SERVICE_TIMEOUT_MS'); // number
 * ```
 */
export function envReader<S extends Readonly<Record<string, z.ZodType>>>(env: NodeJS.ProcessEnv, schemas: S): EnvReader<S> {
  return <K extends keyof S & string>(variable: K): z.output<S[K]> => readEnv(env, variable, schemas[variable] as unknown as z.ZodType<z.output<S[K]>>);
}

/** The configuration every Weft sample service shares. */
export interface ServiceConfig {
  /** `PORT`; 0 picks a free one. */
  readonly port: number;
  /** `HOST` to listen on. @default '127.0.0.1' */
  readonly host: string;
  /** `LOG_LEVEL`. @default 'info' */
  readonly logLevel: LogLevel;
  /** `SIM_PORT`: port of the embedded simulated dependencies (demo mode); 0 picks a free one. @default 0 */
  readonly simPort: number;
  /** `REDIS_URL`: Redis connection URL; the service's shared state lives in Redis when it is set. */
  readonly redisUrl: string | undefined;
  /** `REDIS_PREFIX`: key prefix in Redis. @default 'weft-<name>' */
  readonly redisPrefix: string;
  /** `SHUTDOWN_TIMEOUT_MS`: how long SIGTERM waits for in-flight requests before closing their connections. @default 10000 */
  readonly shutdownTimeoutMs: number;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP/HTTP trace endpoint; traces are exported only when it is set. */
  readonly otlpEndpoint: string | undefined;
  /** `OTEL_SERVICE_NAME`. @default 'weft-<name>' */
  readonly serviceName: string;
  /** `HTTP_REQUEST_TIMEOUT_MS`: the most a request may take to arrive whole, headers and body (a trickled body is cut off). @default 30000 */
  readonly httpRequestTimeoutMs: number;
  /** `HTTP_HEADERS_TIMEOUT_MS`: the most a request's headers may take to arrive. @default 10000 */
  readonly httpHeadersTimeoutMs: number;
  /** `HTTP_KEEP_ALIVE_TIMEOUT_MS`: how long an idle keep-alive connection is kept open. @default 5000 */
  readonly httpKeepAliveTimeoutMs: number;
  /** `CORS_ORIGINS`: comma-separated origins browsers may call from (`https://app.example.com`); empty turns CORS off. @default [] */
  readonly corsOrigins: readonly string[];
  /** `METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <token>`. @default undefined (open) */
  readonly metricsToken: string | undefined;
}

/** Which service {@link loadServiceConfig} reads for: it sets the defaults. */
export interface ServiceConfigDefaults {
  /** Short service name: `REDIS_PREFIX` and `OTEL_SERVICE_NAME` default to `weft-<name>`. */
  readonly name: string;
  /** Default `PORT`. */
  readonly port: number;
}

/** What each shared variable means, for the generated environment reference. */
export const SHARED_ENV_DOCS = {
  PORT: 'Port to listen on; 0 picks a free one.',
  HOST: 'Address to listen on; 0.0.0.0 in a container.',
  LOG_LEVEL: 'Log level of the JSON logs on stdout.',
  SIM_PORT: 'Port of the embedded simulated dependencies (demo mode); 0 picks a free one.',
  REDIS_URL: 'Redis connection URL; shared state (and durable runs) live in Redis when it is set.',
  REDIS_PREFIX: 'Key prefix in Redis.',
  SHUTDOWN_TIMEOUT_MS: 'How long SIGTERM waits for requests in flight before closing their connections.',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'OTLP/HTTP endpoint; traces are exported only when it is set.',
  OTEL_SERVICE_NAME: 'The service name on traces.',
  HTTP_REQUEST_TIMEOUT_MS: 'The most a request may take to arrive whole, headers and body; a trickled body is cut off.',
  HTTP_HEADERS_TIMEOUT_MS: "The most a request's headers may take to arrive.",
  HTTP_KEEP_ALIVE_TIMEOUT_MS: 'How long an idle keep-alive connection is kept open.',
  CORS_ORIGINS: 'Comma-separated origins browsers may call from; unset turns CORS off.',
  METRICS_TOKEN: '/metrics answers only "Authorization: Bearer <token>" when it is set.',
} as const;

/**
 * A markdown table of environment variables (variable, default, meaning), from their zod schemas:
 * the default is what the schema gives for an unset variable, so the reference cannot drift from
 * the code. Every variable needs a meaning.
 *
 * @example
 * ```ts
 * const table = envTable(serviceEnvSchemas({ name: 'orders', port: 3001 }), SHARED_ENV_DOCS);
 * ```
 */
export function envTable(schemas: Readonly<Record<string, z.ZodType>>, docs: Readonly<Record<string, string>>): string {
  const rows = Object.entries(schemas).map(([name, schema]) => {
    const meaning = docs[name];
    if (meaning === undefined) throw new TypeError(`No meaning documented for the environment variable ${name}`);
    const parsed = schema.safeParse(undefined);
    const value: unknown = parsed.success ? parsed.data : undefined;
    const shown = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
    const fallback = !parsed.success ? 'required' : value === undefined ? 'unset' : `\`${shown}\``;
    return `| \`${name}\` | ${fallback} | ${meaning} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The zod schemas of the shared variables, for {@link envTable}. */
export function serviceEnvSchemas(defaults: ServiceConfigDefaults): Readonly<Record<string, z.ZodType>> {
  return serviceEnv(defaults);
}

function serviceEnv({ name, port }: ServiceConfigDefaults) {
  return {
    PORT: envInt(0, 65_535).default(port),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    SIM_PORT: envInt(0, 65_535).default(0),
    REDIS_URL: z.string().regex(/^rediss?:\/\/./, { error: 'a redis:// or rediss:// URL' }).optional(),
    REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, { error: '1-32 letters, digits, _ . or -' }).default(`weft-${name}`),
    SHUTDOWN_TIMEOUT_MS: envInt(0, 600_000).default(10_000),
    OTEL_EXPORTER_OTLP_ENDPOINT: envHttpUrl.optional(),
    OTEL_SERVICE_NAME: z.string().min(1).default(`weft-${name}`),
    HTTP_REQUEST_TIMEOUT_MS: envInt(100, 600_000).default(30_000),
    HTTP_HEADERS_TIMEOUT_MS: envInt(100, 600_000).default(10_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: envInt(100, 600_000).default(5_000),
    CORS_ORIGINS: z
      .string()
      .regex(/^(https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)(,https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)*$/, { error: 'comma-separated http(s) origins, such as https://app.example.com' })
      .optional(),
    METRICS_TOKEN: z.string().min(16, { error: 'at least 16 characters' }).optional(),
  } as const;
}

/**
 * Reads the variables every service shares (`PORT`, `HOST`, `LOG_LEVEL`, `SIM_PORT`, `REDIS_URL`,
 * `REDIS_PREFIX`, `SHUTDOWN_TIMEOUT_MS`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`); a bad
 * value throws a {@link ConfigError} naming the variable.
 *
 * @example
 * ```ts
 * const config = { ...loadServiceConfig(process.env, { name: 'orders', port: 3001 }), serviceTimeoutMs: 5_000 };
 * ```
 */
export function loadServiceConfig(env: NodeJS.ProcessEnv, defaults: ServiceConfigDefaults): ServiceConfig {
  const v = envReader(env, serviceEnv(defaults));
  return {
    port: v('PORT'),
    host: v('HOST'),
    logLevel: v('LOG_LEVEL'),
    simPort: v('SIM_PORT'),
    redisUrl: v('REDIS_URL'),
    redisPrefix: v('REDIS_PREFIX'),
    shutdownTimeoutMs: v('SHUTDOWN_TIMEOUT_MS'),
    otlpEndpoint: v('OTEL_EXPORTER_OTLP_ENDPOINT'),
    httpRequestTimeoutMs: v('HTTP_REQUEST_TIMEOUT_MS'),
    httpHeadersTimeoutMs: Math.min(v('HTTP_HEADERS_TIMEOUT_MS'), v('HTTP_REQUEST_TIMEOUT_MS')),
    httpKeepAliveTimeoutMs: v('HTTP_KEEP_ALIVE_TIMEOUT_MS'),
    corsOrigins: v('CORS_ORIGINS')?.split(',') ?? [],
    metricsToken: v('METRICS_TOKEN'),
    serviceName: v('OTEL_SERVICE_NAME'),
  };
}
