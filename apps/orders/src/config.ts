import { hostname } from 'node:os';
import { ConfigError, envHttpUrl, envInt, envReader, envTable, loadServiceConfig, serviceEnvSchemas, SHARED_ENV_DOCS, type ServiceConfig } from '@weft/service-kit';
import { z } from 'zod';


/** The orders service's validated configuration: the shared service settings plus its own. */
export interface OrdersConfig extends ServiceConfig {
  /** Base URL of the inventory, payments and shipping services; undefined starts the simulated ones on loopback (demo mode). */
  readonly servicesUrl: string | undefined;
  /** Per-call timeout of each service call. */
  readonly serviceTimeoutMs: number;
  /**
   * `ORDERS_ROLE`: `api` takes orders and enqueues them, `worker` runs them, `all` both. `api` and
   * `worker` need `REDIS_URL` (orders run as BullMQ jobs); `all` without it runs sagas in process.
   */
  readonly role: 'all' | 'api' | 'worker';
  /** `WORKER_CONCURRENCY`: orders one worker process runs at once. */
  readonly workerConcurrency: number;
  /** `SAGA_LEASE_MS`: how long a dead instance's saga stays locked before another takes it over. */
  readonly sagaLeaseMs: number;
  /** `JOB_LOCK_MS`: BullMQ's job lock; a dead worker's job is taken over after about this long. */
  readonly jobLockMs: number;
  /** `JOB_STALLED_INTERVAL_MS`: how often workers look for stalled jobs. */
  readonly jobStalledIntervalMs: number;
  /** `SUPERVISE_AFTER_MS`: a dead instance's saga idle this long is compensated rather than left to its job's retry. */
  readonly superviseAfterMs: number;
  /** `ORDER_WAIT_MS`: how long `POST /v1/orders` waits for the result before answering 202. */
  readonly orderWaitMs: number;
  /** `INSTANCE_ID`: this process in saga leases. */
  readonly instanceId: string;
}

/** The variables only the orders service reads (the shared ones are read by `loadServiceConfig`). */
const ENV = {
  ORDERS_SERVICES_URL: envHttpUrl.optional(),
  SERVICE_TIMEOUT_MS: envInt(1, 600_000).default(5_000),
  ORDERS_ROLE: z.enum(['all', 'api', 'worker'], { error: 'all, api or worker' }).default('all'),
  WORKER_CONCURRENCY: envInt(1, 1_000).default(8),
  SAGA_LEASE_MS: envInt(100, 600_000).default(5_000),
  JOB_LOCK_MS: envInt(200, 600_000).default(10_000),
  JOB_STALLED_INTERVAL_MS: envInt(100, 600_000).default(5_000),
  SUPERVISE_AFTER_MS: envInt(0, 86_400_000).default(60_000),
  ORDER_WAIT_MS: envInt(100, 600_000).default(10_000),
  INSTANCE_ID: z.string().regex(/^[\w.:-]{1,100}$/, 'letters, digits, _ . : or - (at most 100)').optional(),
} as const;

/** What each orders variable means, for the generated reference in the README. */
const ENV_DOCS: Readonly<Record<keyof typeof ENV, string>> = {
  ORDERS_SERVICES_URL: 'Base URL of the inventory, payments and shipping services; unset starts the simulated ones on loopback (demo mode).',
  SERVICE_TIMEOUT_MS: 'Timeout of each call to a service.',
  ORDERS_ROLE: '`api` takes orders and enqueues them (BullMQ), `worker` runs them, `all` both. `api` and `worker` need `REDIS_URL`.',
  WORKER_CONCURRENCY: 'Orders one worker process runs at once.',
  SAGA_LEASE_MS: "How long a dead instance's saga stays locked before another instance takes it over.",
  JOB_LOCK_MS: "BullMQ's job lock: a dead worker's job is taken over after about this long.",
  JOB_STALLED_INTERVAL_MS: 'How often workers look for stalled jobs.',
  SUPERVISE_AFTER_MS: "A dead instance's saga idle this long is compensated rather than left to its job's retry.",
  ORDER_WAIT_MS: 'How long `POST /v1/orders` waits for the outcome before answering 202.',
  INSTANCE_ID: 'This process in saga leases (a pod name). Defaults to the host name and process ID.',
};

/**
 * The orders service's environment reference, as the README shows it, with defaults read from the schemas.
 *
 * @example
 * ```ts
 * console.log(environmentReference());
 * ```
 */
export function environmentReference(): string {
  return ['### Shared with the other services', '', envTable(serviceEnvSchemas({ name: 'orders', port: 3001 }), SHARED_ENV_DOCS), '', '### The orders service', '', envTable(ENV, ENV_DOCS)].join('\n');
}

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
  const base = loadServiceConfig(env, { name: 'orders', port: 3001 });
  const role = v('ORDERS_ROLE');
  if (role !== 'all' && base.redisUrl === undefined) throw new ConfigError('REDIS_URL', `ORDERS_ROLE=${role} needs \`REDIS_URL\`: orders run as BullMQ jobs in Redis`);
  return Object.freeze({
    ...base,
    servicesUrl: v('ORDERS_SERVICES_URL')?.replace(/\/+$/, ''),
    serviceTimeoutMs: v('SERVICE_TIMEOUT_MS'),
    role,
    workerConcurrency: v('WORKER_CONCURRENCY'),
    sagaLeaseMs: v('SAGA_LEASE_MS'),
    jobLockMs: v('JOB_LOCK_MS'),
    jobStalledIntervalMs: v('JOB_STALLED_INTERVAL_MS'),
    superviseAfterMs: v('SUPERVISE_AFTER_MS'),
    orderWaitMs: v('ORDER_WAIT_MS'),
    instanceId: v('INSTANCE_ID') ?? `${hostname().replace(/[^\w.:-]/g, '-').slice(0, 60)}-${process.pid}`,
  }) satisfies OrdersConfig;
}
