import type { z } from 'zod';
import { behaviourFields, providerNameSchema, type ProviderBehaviour, type ProviderOptions } from './provider-config.js';
import type { SimulatedProvidersOptions } from './start-simulated-providers.js';

/** Environment variable suffix of each behaviour field. */
const FIELD_VARS = {
  latencyMs: 'LATENCY_MS',
  jitterMs: 'JITTER_MS',
  errorRate: 'ERROR_RATE',
  errorStatus: 'ERROR_STATUS',
  retryAfterSeconds: 'RETRY_AFTER_S',
  down: 'DOWN',
  tokenLatencyMs: 'TOKEN_LATENCY_MS',
  failAfterTokens: 'FAIL_AFTER_TOKENS',
} as const satisfies Record<keyof ProviderBehaviour, string>;

function show(value: string): string {
  return JSON.stringify(value);
}

function fail(variable: string, expected: string, value: string): never {
  throw new TypeError(`Expected \`${variable}\` to be ${expected}, got ${show(value)}`);
}

function parseValue(variable: string, raw: string, schema: z.ZodType): unknown {
  const text = raw.trim();
  let value: unknown = text;
  if (schema === behaviourFields.down) {
    if (/^(1|true|yes)$/i.test(text)) value = true;
    else if (/^(0|false|no)$/i.test(text)) value = false;
  } else if (text !== '') {
    value = Number(text);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? 'valid';
    fail(variable, message.replace(/^to be /, ''), raw);
  }
  return parsed.data;
}

function integer(variable: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) fail(variable, `an integer between ${min} and ${max}`, raw);
  return value;
}

function behaviourFromEnv(env: NodeJS.ProcessEnv, prefix: string): Partial<ProviderBehaviour> {
  const behaviour: Record<string, unknown> = {};
  for (const [field, suffix] of Object.entries(FIELD_VARS) as [keyof ProviderBehaviour, string][]) {
    const variable = `${prefix}${suffix}`;
    const raw = env[variable];
    if (raw !== undefined && raw.trim() !== '') behaviour[field] = parseValue(variable, raw, behaviourFields[field]);
  }
  return behaviour;
}

function nonEmpty(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * Reads {@link SimulatedProvidersOptions} from environment variables, validating each one and
 * naming it on error (``Expected `SIM_BETA_ERROR_RATE` to be a number between 0 and 1, got "2"``).
 *
 * - `PORT` (default 0 here; the CLI uses 4010), `HOST`, `SIM_SEED`, `SIM_API_KEY`, `SIM_LOG` (`1`/`true`)
 * - `SIM_PROVIDERS`: comma-separated names (default `alpha,beta,gamma`)
 * - for every provider, and as defaults for all: `SIM_[<NAME>_]LATENCY_MS`, `..._JITTER_MS`,
 *   `..._ERROR_RATE`, `..._ERROR_STATUS`, `..._RETRY_AFTER_S`, `..._DOWN`; per provider only:
 *   `SIM_<NAME>_API_KEY`, `SIM_<NAME>_MODELS` (comma-separated). `<NAME>` is the name upper-cased,
 *   dashes as underscores.
 *
 * @example
 * ```ts
 * const options = optionsFromEnv({ SIM_PROVIDERS: 'alpha,beta', SIM_BETA_ERROR_RATE: '0.2', SIM_SEED: '7' });
 * // { seed: 7, providers: { alpha: {}, beta: { errorRate: 0.2 } } }
 * ```
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SimulatedProvidersOptions {
  const names = (nonEmpty(env.SIM_PROVIDERS) ?? 'alpha,beta,gamma')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) fail('SIM_PROVIDERS', 'a comma-separated list of provider names', env.SIM_PROVIDERS ?? '');
  const shared = behaviourFromEnv(env, 'SIM_');
  const providers: Record<string, ProviderOptions> = {};
  for (const name of names) {
    if (!providerNameSchema.safeParse(name).success) fail('SIM_PROVIDERS', 'a comma-separated list of names of 1-32 lowercase letters, digits or inner dashes', env.SIM_PROVIDERS ?? '');
    const prefix = `SIM_${name.toUpperCase().replaceAll('-', '_')}_`;
    const apiKey = nonEmpty(env[`${prefix}API_KEY`]);
    const models = nonEmpty(env[`${prefix}MODELS`])
      ?.split(',')
      .map((model) => model.trim())
      .filter((model) => model !== '');
    providers[name] = {
      ...shared,
      ...behaviourFromEnv(env, prefix),
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(models === undefined || models.length === 0 ? {} : { models }),
    };
  }
  const port = integer('PORT', env.PORT, 0, 65_535);
  const seed = integer('SIM_SEED', env.SIM_SEED, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const host = nonEmpty(env.HOST);
  const apiKey = nonEmpty(env.SIM_API_KEY);
  const log = nonEmpty(env.SIM_LOG);
  return {
    providers,
    ...(port === undefined ? {} : { port }),
    ...(host === undefined ? {} : { host }),
    ...(seed === undefined ? {} : { seed }),
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(log === undefined ? {} : { logger: /^(1|true|yes)$/i.test(log) }),
  };
}
