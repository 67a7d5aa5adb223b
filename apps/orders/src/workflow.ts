import { randomUUID } from 'node:crypto';
import { saga, step, type Primitive, type RunContext, type SagaLog } from '@weft/core';
import type { WeftFetch } from '@weft/http';
import { z } from 'zod';

/** The body of `POST /v1/orders`. */
export const orderBodySchema = z.strictObject({
  orderId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  sku: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(1_000),
  card: z.string().regex(/^\d{12,19}$/),
  postcode: z.string().min(3).max(10),
});

/** A validated order. */
export type Order = z.output<typeof orderBodySchema> & { readonly orderId: string };
type Reserved = Order & { readonly reservationId: string };
type Charged = Reserved & { readonly chargeId: string };
/** A placed order: every step's ID. */
export type Placed = Charged & { readonly shipmentId: string };

/**
 * A downstream service answered an error status. `status` is its HTTP status.
 *
 * @example
 * ```ts
 * throw new ServiceError('payments', 402, 'The card was declined.');
 * ```
 */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly service: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The name of the saga, in its log, events and metrics. */
export const ORDER_SAGA = 'place_order';

/**
 * Builds the order saga: reserve stock, charge payment, create shipment, three HTTP calls through
 * Weft's fetch (the run's signal and trace headers travel). When a step fails, the completed steps
 * are compensated in reverse order: cancel the shipment, refund the charge, release the stock.
 * Forward calls carry an `idempotency-key` so a retried charge is not charged twice; compensations
 * are retried three times.
 *
 * @example
 * ```ts
 * const placeOrder = buildOrderSaga({ servicesUrl, fetch: weftFetch, log: new MemorySagaLog(), timeoutMs: 5_000 });
 * const placed = await placeOrder.run(order);
 * ```
 */
export function buildOrderSaga(deps: { readonly servicesUrl: string; readonly fetch: WeftFetch; readonly log: SagaLog; readonly timeoutMs: number }): Primitive<Order, Placed> {
  const call = async (ctx: RunContext, service: string, method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<Record<string, unknown>> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const response = await deps.fetch(`${deps.servicesUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ctx });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new ServiceError(service, response.status, typeof json.message === 'string' ? json.message : `${service} answered ${response.status}`);
    return json;
  };
  const transient = (error: Error): boolean => !(error instanceof ServiceError) || error.status >= 500;
  const resilient = <I, O>(p: Primitive<I, O>): Primitive<I, O> => p.timeout(deps.timeoutMs).retry({ retries: 2, minDelay: 100, retryOn: transient });

  const reserve = resilient(
    step('reserve_stock', async (order: Order, ctx): Promise<Reserved> => {
      const out = await call(ctx, 'inventory', 'POST', '/inventory/reservations', { orderId: order.orderId, sku: order.sku, quantity: order.quantity }, `${order.orderId}:reserve`);
      return { ...order, reservationId: String(out.reservationId) };
    }),
  );
  const charge = resilient(
    step('charge_payment', async (order: Reserved, ctx): Promise<Charged> => {
      const out = await call(ctx, 'payments', 'POST', '/payments/charges', { orderId: order.orderId, card: order.card, amount: order.quantity * 1_000 }, `${order.orderId}:charge`);
      return { ...order, chargeId: String(out.chargeId) };
    }),
  );
  const ship = resilient(
    step('create_shipment', async (order: Charged, ctx): Promise<Placed> => {
      const out = await call(ctx, 'shipping', 'POST', '/shipping/shipments', { orderId: order.orderId, postcode: order.postcode }, `${order.orderId}:ship`);
      return { ...order, shipmentId: String(out.shipmentId) };
    }),
  );

  return saga(
    [
      { step: reserve, compensate: async ({ output }, ctx) => call(ctx, 'inventory', 'DELETE', `/inventory/reservations/${output.reservationId}`) },
      { step: charge, compensate: async ({ output }, ctx) => call(ctx, 'payments', 'POST', `/payments/charges/${output.chargeId}/refund`) },
      { step: ship, compensate: async ({ output }, ctx) => call(ctx, 'shipping', 'DELETE', `/shipping/shipments/${output.shipmentId}`) },
    ],
    { name: ORDER_SAGA, log: deps.log, id: (order) => order.orderId, compensationRetry: { retries: 3, delayMs: 200 }, compensationTimeoutMs: 30_000 },
  );
}

/** Fills in a missing order ID. */
export function withOrderId(body: z.output<typeof orderBodySchema>): Order {
  return { ...body, orderId: body.orderId ?? `ord_${randomUUID().slice(0, 12)}` };
}
