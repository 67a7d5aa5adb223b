import { isCompensationError, isTimeoutError, isValidationError, MemorySagaLog, recoverSagas, sequence, step, type Primitive, type SagaLog, type SagaRecovery } from '@weft/core';
import { weftFetch } from '@weft/http';
import { fromPino, logEvents, weftPinoOptions } from '@weft/log';
import { createWeftRedis, RedisSagaLog, type WeftRedis } from '@weft/redis';
import { clientGone, correlationIdOf, createMetrics, inRequestContext, installErrorHandlers, installPlumbing, installReadiness, redisReadiness, sendError } from '@weft/service-kit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { destination, pino, type DestinationStream } from 'pino';
import type { OrdersConfig } from './config.js';
import { startSimulatedServices, type SimulatedServices } from './simulated-services.js';
import { buildOrderSaga, orderBodySchema, ServiceError, withOrderId, type Order, type Placed } from './workflow.js';

/** What a running orders service holds, for `main.ts` and tests. */
interface OrdersState {
  readonly config: OrdersConfig;
  /** The embedded simulated services (demo mode only). */
  readonly services: SimulatedServices | undefined;
  readonly redis: WeftRedis | undefined;
  readonly sagaLog: SagaLog;
  /** What `recover()` did at start-up. */
  readonly recovered: readonly SagaRecovery[];
  shuttingDown: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    orders: OrdersState;
  }
}

/** Extra wiring for tests. */
export interface BuildAppOptions {
  /** Where logs go. @default standard output */
  readonly logDestination?: DestinationStream;
}

/**
 * Builds the orders service: the saga log (memory, or Redis when configured), the simulated
 * services in demo mode, the order saga with recovery of interrupted executions, metrics, logs and
 * the routes. It does not listen; closing the app closes what it started.
 *
 * @example
 * ```ts
 * const app = await buildApp(loadConfig());
 * await app.listen({ port: 3001 });
 * ```
 */
export async function buildApp(config: OrdersConfig, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const logger = pino(weftPinoOptions({ level: config.logLevel, name: 'orders' }), options.logDestination ?? destination(1));
  const redis = config.redisUrl === undefined ? undefined : createWeftRedis({ url: config.redisUrl, prefix: config.redisPrefix, onError: (error) => logger.warn({ err: error }, 'redis connection error') });
  const sagaLog: SagaLog = redis === undefined ? new MemorySagaLog() : new RedisSagaLog(redis);
  let services: SimulatedServices | undefined;
  try {
    if (config.servicesUrl === undefined) services = await startSimulatedServices(config.simPort);
  } catch (error) {
    await redis?.close();
    throw error;
  }
  const placeOrder = buildOrderSaga({ servicesUrl: config.servicesUrl ?? services!.url, fetch: weftFetch, log: sagaLog, timeoutMs: config.serviceTimeoutMs });
  const validate = step({ name: 'validate', input: orderBodySchema }, withOrderId) as unknown as Primitive<unknown, Order>;
  const flow = sequence(validate, placeOrder);

  // Compensate executions a crash left unfinished. Redis being down must not stop the service.
  let recovered: SagaRecovery[] = [];
  try {
    if (redis !== undefined) await redis.ready(2_000);
    recovered = await recoverSagas(placeOrder);
    if (recovered.length > 0) logger.warn({ recovered: recovered.map((r) => ({ sagaId: r.sagaId, outcome: r.outcome })) }, `recovered ${recovered.length} interrupted order saga(s)`);
  } catch (error) {
    logger.error({ err: error }, 'saga recovery failed at start-up; interrupted orders are recovered at the next start');
  }

  const metrics = createMetrics('orders');
  const stopEventLogs = logEvents(fromPino(logger), { levels: { 'run.started': 'silent', 'step.started': 'silent' } });
  // Typed as Fastify's base logger, so the app is a plain FastifyInstance rather than one generic over pino's Logger.
  const loggerInstance: FastifyBaseLogger = logger;
  const app = Fastify({ loggerInstance, genReqId: correlationIdOf, logController: new LogController({ requestIdLogLabel: 'correlation_id', disableRequestLogging: true }), bodyLimit: 64 * 1024 });
  const state: OrdersState = { config, services, redis, sagaLog, recovered, shuttingDown: false };
  app.decorate('orders', state);
  installPlumbing(app, metrics);
  app.addHook('onClose', async () => {
    state.shuttingDown = true;
    stopEventLogs();
    metrics.stop();
    await Promise.all([redis?.close(), services?.close()]);
  });
  installErrorHandlers(app, { notFoundHint: 'Try POST /v1/orders.' });

  installReadiness(app, { shuttingDown: () => state.shuttingDown, checks: { redis: redis && redisReadiness(redis) } });


  app.post('/v1/orders', async (request, reply) => {
    try {
      const placed: Placed = await inRequestContext(request, () => flow.run(request.body, { correlationId: request.id, signal: clientGone(reply), workflow: 'place_order' }));
      return reply.code(201).send({ orderId: placed.orderId, reservationId: placed.reservationId, chargeId: placed.chargeId, shipmentId: placed.shipmentId, correlationId: request.id });
    } catch (error) {
      return replyToFailure(error, reply);
    }
  });
  return app;
}

function replyToFailure(error: unknown, reply: FastifyReply): FastifyReply {
  if (isValidationError(error) && error.step === 'validate') {
    return sendError(reply, 400, 'invalid_request', error.message, { issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) });
  }
  if (isCompensationError(error)) {
    reply.request.log.error({ err: error }, 'order failed and a compensation failed too');
    return sendError(reply, 500, 'compensation_failed', `The order failed (${(error.cause as Error | undefined)?.message ?? 'unknown'}) and undoing it failed too; it is queued for recovery.`);
  }
  if (error instanceof ServiceError && error.service === 'payments' && error.status === 402) {
    return sendError(reply, 402, 'payment_declined', `${error.message} The stock reservation was released.`, { compensated: true });
  }
  if (error instanceof ServiceError && error.status < 500) {
    return sendError(reply, 422, 'order_rejected', `The ${error.service} service refused the order: ${error.message} Completed steps were undone in reverse order.`, { compensated: true });
  }
  if (isTimeoutError(error)) return sendError(reply, 504, 'timeout', `A service did not answer in time; completed steps were undone.`, { compensated: true });
  reply.request.log.warn({ err: error }, 'order failed');
  return sendError(reply, 503, 'service_unavailable', `The order could not be placed: ${(error as Error).message}. Completed steps were undone.`, { compensated: true });
}
