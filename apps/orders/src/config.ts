import { envHttpUrl, envInt, envReader, loadServiceConfig, type ServiceConfig } from '@weft/service-kit';


/** The orders service's validated configuration: the shared service settings plus its own. */
export interface OrdersConfig extends ServiceConfig {
  /** Base URL of the inventory, payments and shipping services; undefined starts the simulated ones on loopback (demo mode). */
  readonly servicesUrl: string | undefined;
  /** Per-call timeout of each service call. */
  readonly serviceTimeoutMs: number;
}

/** The variables only the orders service reads (the shared ones are read by `loadServiceConfig`). */
const ENV = {
  ORDERS_SERVICES_URL: envHttpUrl.optional(),
  SERVICE_TIMEOUT_MS: envInt(1, 600_000).default(5_000),
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
  const v = envReader(env, ENV);
  return Object.freeze({
    ...loadServiceConfig(env, { name: 'orders', port: 3001 }),
    servicesUrl: v('ORDERS_SERVICES_URL')?.replace(/\/+$/, ''),
    serviceTimeoutMs: v('SERVICE_TIMEOUT_MS'),
  }) satisfies OrdersConfig;
}
