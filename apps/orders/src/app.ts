import { isCompensationError, isSagaConflictError, isTimeoutError, isValidationError, MemorySagaLog, recoverSagas, step, superviseSagas, type Primitive, type SagaLog, type SagaRecovery, type SagaSupervisor } from '@weft/core';
import { durable, type Durable, type DurableWorker } from '@weft/bullmq';
import { weftFetch } from '@weft/http';
import { fromPino, logEvents, weftPinoOptions } from '@weft/log';
import { watchQueues } from '@weft/prometheus';
import { createWeftRedis, RedisSagaLog, type WeftRedis } from '@weft/redis';
import { clientGone, correlationIdOf, createMetrics, frameworkErrors, httpLimits, inRequestContext, installErrorHandlers, installPlumbing, installReadiness, redisReadiness, sendError } from '@weft/service-kit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { destination, pino, type DestinationStream } from 'pino';
import type { OrdersConfig } from './config.js';
import { startSimulatedServices, type SimulatedServices } from './simulated-services.js';
import { buildOrderSaga, ORDER_SAGA, orderBodySchema, tokenizeCard, withOrderId, type Order, type OrderRequest, type Placed } from './workflow.js';

/** What a running orders service holds, for `main.ts` and tests. */
interface OrdersState {
  readonly config: OrdersConfig;
  /** The embedded simulated services (demo mode only). */
  readonly services: SimulatedServices | undefined;
  readonly redis: WeftRedis | undefined;
  readonly sagaLog: SagaLog;
  /** The order queue, when orders run as BullMQ jobs (`REDIS_URL` set). */
  readonly queue: Durable<Order, Placed> | undefined;
  /** What start-up recovery did (worker and all roles). */
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
 * Builds the orders service. With `REDIS_URL`, orders run as durable BullMQ jobs: the `api` role
 * enqueues `place_order` with the order ID as job ID and saga ID and waits for the result within
 * `ORDER_WAIT_MS`; the `worker` role runs the saga (its log in Redis) and supervises executions
 * that dead instances left; `all` does both. Without Redis, sagas run in process with an in-memory
 * log. In demo mode the simulated services start on loopback. It does not listen; closing the app
 * stops the worker gracefully and closes what it started.
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
  const servicesUrl = config.servicesUrl ?? services!.url;
  const placeOrder = buildOrderSaga({ servicesUrl, fetch: weftFetch, log: sagaLog, timeoutMs: config.serviceTimeoutMs, leaseMs: config.sagaLeaseMs, instance: config.instanceId });
  const tokenize = tokenizeCard({ servicesUrl, fetch: weftFetch, timeoutMs: config.serviceTimeoutMs });
  const validate = step({ name: 'validate', input: orderBodySchema }, withOrderId) as unknown as Primitive<unknown, OrderRequest>;
  const runsJobs = config.role !== 'api';

  const queue =
    config.redisUrl === undefined
      ? undefined
      : durable(placeOrder, {
          connection: config.redisUrl,
          prefix: `{${config.redisPrefix}}`,
          attempts: 5,
          backoffMs: 500,
          // A saga that finished answered for good (placed, or compensated): its error is the order's outcome.
          // One that did not (Redis was down, another instance holds it) is retried by BullMQ.
          settle: async (_error, input) => (await sagaLog.get(ORDER_SAGA, (input as Order).orderId))?.entries.at(-1)?.type === 'finished',
        });
  const worker: DurableWorker | undefined = runsJobs && queue ? queue.worker({ concurrency: config.workerConcurrency, lockDurationMs: config.jobLockMs, stalledIntervalMs: config.jobStalledIntervalMs }) : undefined;

  // Metrics first: start-up recovery's takeovers and compensations are counted too.
  const metrics = createMetrics('orders');
  const serviceSteps = ['tokenize_card', 'reserve_stock', 'charge_payment', 'create_shipment'];
  metrics.declare({ workflow: 'place_order', retries: serviceSteps, timeouts: serviceSteps, sagas: [ORDER_SAGA] });
  const stopQueueMetrics = queue ? watchQueues([queue], { registry: metrics.registry }) : undefined;

  // Executions a dead instance left: resumed by their job's retry, or, once idle past
  // SUPERVISE_AFTER_MS, compensated here. Redis being down must not stop the service.
  let recovered: SagaRecovery[] = [];
  let supervisor: SagaSupervisor | undefined;
  if (runsJobs) {
    try {
      if (redis !== undefined) await redis.ready(2_000);
      recovered = await recoverSagas(placeOrder, { olderThanMs: config.superviseAfterMs });
      if (recovered.length > 0) logger.warn({ recovered: recovered.map((r) => ({ sagaId: r.sagaId, outcome: r.outcome })) }, `recovered ${recovered.length} interrupted order saga(s)`);
    } catch (error) {
      logger.error({ err: error }, 'saga recovery at start-up failed; the supervisor tries again');
    }
    supervisor = superviseSagas(placeOrder, {
      olderThanMs: config.superviseAfterMs,
      intervalMs: config.sagaLeaseMs,
      onRecovery: (r) => logger.warn({ recovered: r.map((x) => ({ sagaId: x.sagaId, outcome: x.outcome })) }, `compensated ${r.length} order saga(s) a dead instance left`),
      onError: (error) => logger.warn({ err: error }, 'saga supervision scan failed'),
    });
  }

  const stopEventLogs = logEvents(fromPino(logger), { levels: { 'run.started': 'silent', 'step.started': 'silent' } });
  // Typed as Fastify's base logger, so the app is a plain FastifyInstance rather than one generic over pino's Logger.
  const loggerInstance: FastifyBaseLogger = logger;
  const app = Fastify({ ...httpLimits(config), loggerInstance, genReqId: correlationIdOf, frameworkErrors, logController: new LogController({ requestIdLogLabel: 'correlation_id', disableRequestLogging: true }), bodyLimit: 64 * 1024 });
  const state: OrdersState = { config, services, redis, sagaLog, queue, recovered, shuttingDown: false };
  app.decorate('orders', state);
  installPlumbing(app, metrics, config);
  app.addHook('onClose', async () => {
    state.shuttingDown = true;
    // Finish the jobs in hand; after the shutdown timeout their locks lapse and another worker takes them.
    await worker?.close({ timeoutMs: config.shutdownTimeoutMs });
    await supervisor?.stop();
    stopQueueMetrics?.();
    await queue?.close({ timeoutMs: 2_000 });
    stopEventLogs();
    metrics.stop();
    await Promise.all([redis?.close(), services?.close()]);
  });
  installErrorHandlers(app, { notFoundHint: 'Try POST /v1/orders.' });
  installReadiness(app, { shuttingDown: () => state.shuttingDown, checks: { redis: redis && redisReadiness(redis) } });

  if (config.role === 'worker') return app;

  app.post('/v1/orders', async (request, reply) => {
    try {
      const placed = await inRequestContext(request, async () => {
        const runOptions = { correlationId: request.id, signal: clientGone(reply), workflow: 'place_order' };
        const orderRequest = await validate.run(request.body, runOptions);
        const order = await tokenize.run(orderRequest, runOptions);
        if (queue === undefined) return placeOrder.run(order, runOptions);
        try {
          return await queue.run(order, { jobId: order.orderId, timeoutMs: config.orderWaitMs, signal: runOptions.signal, correlationId: request.id });
        } catch (error) {
          // Waiting ran out, not the order: it goes on in a worker.
          if (isTimeoutError(error)) return { pending: order.orderId } as const;
          throw error;
        }
      });
      if ('pending' in placed) return sendError(reply.header('location', `/v1/orders/${placed.pending}`), 202, 'order_pending', 'The order is being placed; GET its location for the outcome.', { orderId: placed.pending });
      return reply.code(201).send({ orderId: placed.orderId, reservationId: placed.reservationId, chargeId: placed.chargeId, shipmentId: placed.shipmentId, last4: placed.last4, correlationId: request.id });
    } catch (error) {
      return replyToFailure(error, reply);
    }
  });

  app.get<{ Params: { orderId: string } }>('/v1/orders/:orderId', async (request, reply) => {
    const { orderId } = request.params;
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(orderId)) return sendError(reply, 400, 'invalid_request', 'orderId: letters, digits, _ or -, starting with a letter (at most 64)');
    const record = await sagaLog.get(ORDER_SAGA, orderId);
    if (record === undefined) return sendError(reply, 404, 'not_found', 'No such order (or it finished more than a day ago).');
    const last = record.entries.at(-1);
    if (last?.type !== 'finished') return reply.send({ orderId, status: 'in_progress', correlationId: request.id });
    if (last.outcome === 'completed') {
      const placed = last.output as Placed;
      return reply.send({ orderId, status: 'completed', reservationId: placed.reservationId, chargeId: placed.chargeId, shipmentId: placed.shipmentId, correlationId: request.id });
    }
    return reply.send({ orderId, status: last.outcome, correlationId: request.id });
  });
  return app;
}

/** Maps an order's failure to a status: the saga's own error, or the same error rebuilt from a job's result. */
function replyToFailure(thrown: unknown, reply: FastifyReply): FastifyReply {
  if (isValidationError(thrown) && thrown.step === 'validate') {
    return sendError(reply, 400, 'invalid_request', thrown.message, { issues: thrown.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) });
  }
  // A repeated order ID: a finished order answers with its recorded outcome; a running one is a conflict.
  let error = thrown as Error & { code?: unknown; state?: unknown };
  if (isSagaConflictError(thrown) && thrown.cause instanceof Error && thrown.state !== 'running' && thrown.state !== 'lease_lost') error = thrown.cause;
  if (error.name === 'SagaConflictError') return sendError(reply, 409, 'order_in_progress', 'An order with this orderId is being placed; GET /v1/orders/<orderId> for its outcome.');
  if (isCompensationError(error) || error.name === 'CompensationError') {
    reply.request.log.error({ err: error }, 'order failed and a compensation failed too');
    return sendError(reply, 500, 'compensation_failed', 'The order failed and undoing it failed too; an operator has been alerted.');
  }
  if (error.name === 'ServiceError' && error.code === 402) return sendError(reply, 402, 'payment_declined', 'The card was declined. The stock reservation was released.', { compensated: true });
  if (error.name === 'ServiceError' && typeof error.code === 'number' && error.code < 500) {
    return sendError(reply, 422, 'order_rejected', 'A service refused the order. Completed steps were undone in reverse order.', { compensated: true });
  }
  if (error.name === 'TimeoutError') return sendError(reply, 504, 'timeout', 'A service did not answer in time; completed steps were undone.', { compensated: true });
  reply.request.log.warn({ err: error }, 'order failed');
  return sendError(reply, 503, 'service_unavailable', 'The order could not be placed. Retry with the same orderId: it is never placed twice.');
}
