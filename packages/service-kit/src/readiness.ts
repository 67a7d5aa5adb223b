import type { FastifyInstance } from 'fastify';
import { PUBLIC, sendError } from './plumbing.js';

/** One dependency's readiness: why it is not ready, or undefined when it is. */
export type ReadinessCheck = () => Promise<string | undefined>;

/** Options of {@link installReadiness}. */
export interface ReadinessOptions {
  /** True once shutdown has begun: readiness answers 503 from then on, so the load balancer drains the instance. */
  readonly shuttingDown: () => boolean;
  /** Checks by dependency name, run in order; `undefined` reports the dependency as not configured. */
  readonly checks: Readonly<Record<string, ReadinessCheck | undefined>>;
}

/**
 * `GET /health/ready`, the same in every service: 503 `not_ready` while shutting down or when a
 * check fails (its reason prefixed by the dependency's name), else 200 with each check's result.
 *
 * @example
 * ```ts
 * installReadiness(app, { shuttingDown: () => state.shuttingDown, checks: { redis: redis && redisReadiness(redis) } });
 * ```
 */
export function installReadiness(app: FastifyInstance, options: ReadinessOptions): void {
  app.get('/health/ready', PUBLIC, async (_request, reply) => {
    if (options.shuttingDown()) return sendError(reply, 503, 'not_ready', 'shutting down', { status: 'unavailable', reason: 'shutting down' });
    const checks: Record<string, string> = {};
    for (const [name, check] of Object.entries(options.checks)) {
      if (check === undefined) {
        checks[name] = 'not configured';
        continue;
      }
      const problem = await check();
      if (problem !== undefined) {
        const reason = `${name}: ${problem}`;
        return sendError(reply, 503, 'not_ready', reason, { status: 'unavailable', reason });
      }
      checks[name] = 'ok';
    }
    return { status: 'ok', checks };
  });
}

/** What {@link redisReadiness} needs of a Redis client (`WeftRedis` from @weft/redis has it). */
export interface PingableRedis {
  readonly isReady: boolean;
  command(args: readonly string[], options: { readonly timeoutMs: number }): Promise<unknown>;
}

/** A readiness check that a Redis client is connected and answers PING within `timeoutMs`. */
export function redisReadiness(redis: PingableRedis, timeoutMs = 500): ReadinessCheck {
  return async () => {
    if (!redis.isReady) return 'not connected';
    try {
      await redis.command(['PING'], { timeoutMs });
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : 'PING failed';
    }
  };
}
