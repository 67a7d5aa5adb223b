import { randomUUID } from 'node:crypto';
import { saga, step, type Primitive, type RunContext, type SagaLog } from '@weft/core';
import type { WeftFetch } from '@weft/http';
import { z } from 'zod';

/** The body of `POST /v1/orders`. */
export const orderBodySchema = z.strictObject({
  orderId: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ or -, starting with a letter (at most 64)').optional(),
  sku: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(1_000),
  card: z.string().regex(/^\d{12,19}$/),
  postcode: z.string().min(3).max(10),
});

/** A validated request: it holds the card number, so it is never persisted. */
export type OrderRequest = z.output<typeof orderBodySchema> & { readonly orderId: string };

/**
 * An order as the saga, its log and the job queue hold it: the card is a payment token and its
 * last four digits, never the number.
 */
export interface Order {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly cardToken: string;
  readonly last4: string;
  readonly postcode: string;
}
type Reserved = Order & { readonly reservationId: string };
type Charged = Reserved & { readonly chargeId: string };
/** A placed order: every step's ID. */
export type Placed = Charged & { readonly shipmentId: string };

/**
 * A downstream service answered an error status. `status` is its HTTP status, also kept as `code`
 * so that it survives being recorded as a job's result.
 *
 * @example
 * ```ts
 * throw new ServiceError('payments', 402, 'The card was declined.');
 * ```
 */
class ServiceError extends Error {
  override name = 'ServiceError';
  readonly code: number;
  /** A declined card (402) or an undeliverable address (422) is a business decision, not a fault: the run ends `rejected`. */
  readonly expected: boolean;
  constructor(
    readonly service: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.code = status;
    this.expected = status === 402 || status === 422;
  }
}

/** The name of the saga, in its log, events and metrics, and of its job queue. */
export const ORDER_SAGA = 'place_order';

interface Deps {
  readonly servicesUrl: string;
  readonly fetch: WeftFetch;
}

/** One JSON call to a service; an error status throws {@link ServiceError} with the service's own message. */
async function call(deps: Deps, ctx: RunContext, service: string, path: string, body: unknown, idempotencyKey?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
  const response = await deps.fetch(`${deps.servicesUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body), ctx });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) throw new ServiceError(service, response.status, typeof json.message === 'string' ? json.message : `${service} answered ${response.status}`);
  return json;
}

/**
 * Exchanges the card number for a payment token, as a PSP's client-side tokenization would: only
 * the token and the last four digits go further (into the saga log and the job queue).
 *
 * @example
 * ```ts
 * const order = await tokenizeCard({ servicesUrl, fetch: weftFetch }).run(request);
 * ```
 */
export function tokenizeCard(deps: Deps & { readonly timeoutMs: number }): Primitive<OrderRequest, Order> {
  return step('tokenize_card', async (request: OrderRequest, ctx): Promise<Order> => {
    const out = await call(deps, ctx, 'payments', '/payments/tokens', { card: request.card }, `${request.orderId}:token`);
    const { card: _card, ...rest } = request;
    return { ...rest, cardToken: String(out.token), last4: String(out.last4) };
  })
    .timeout(deps.timeoutMs)
    .retry({ retries: 2, minDelay: 100, retryOn: transient });
}

const transient = (error: Error): boolean => !(error instanceof ServiceError) || error.status >= 500;

/**
 * Builds the order saga: reserve stock, charge payment, create shipment, three HTTP calls through
 * Weft's fetch (the run's signal and trace headers travel). Every forward call carries the saga's
 * `ctx.idempotencyKey`, so a retried, resumed or duplicated call has no second effect; every
 * compensation is by that key, so it undoes a step whose outcome is unknown (a timeout, a crash)
 * too, and tolerates "nothing to undo". Compensations are retried three times.
 *
 * @example
 * ```ts
 * const placeOrder = buildOrderSaga({ servicesUrl, fetch: weftFetch, log: new MemorySagaLog(), timeoutMs: 5_000 });
 * const placed = await placeOrder.run(order);
 * ```
 */
export function buildOrderSaga(deps: Deps & { readonly log: SagaLog; readonly timeoutMs: number; readonly leaseMs?: number; readonly instance?: string }): Primitive<Order, Placed> {
  const resilient = <I, O>(p: Primitive<I, O>): Primitive<I, O> => p.timeout(deps.timeoutMs).retry({ retries: 2, minDelay: 100, retryOn: transient });
  const reserve = resilient(
    step('reserve_stock', async (order: Order, ctx): Promise<Reserved> => {
      const out = await call(deps, ctx, 'inventory', '/inventory/reservations', { orderId: order.orderId, sku: order.sku, quantity: order.quantity }, ctx.idempotencyKey);
      return { ...order, reservationId: String(out.id) };
    }),
  );
  const charge = resilient(
    step('charge_payment', async (order: Reserved, ctx): Promise<Charged> => {
      const out = await call(deps, ctx, 'payments', '/payments/charges', { orderId: order.orderId, cardToken: order.cardToken, amount: order.quantity * 1_000 }, ctx.idempotencyKey);
      return { ...order, chargeId: String(out.id) };
    }),
  );
  const ship = resilient(
    step('create_shipment', async (order: Charged, ctx): Promise<Placed> => {
      const out = await call(deps, ctx, 'shipping', '/shipping/shipments', { orderId: order.orderId, postcode: order.postcode }, ctx.idempotencyKey);
      return { ...order, shipmentId: String(out.id) };
    }),
  );
  const undo = (service: string, path: string) => async ({ idempotencyKey }: { idempotencyKey: string }, ctx: RunContext) => call(deps, ctx, service, path, { key: idempotencyKey });
  return saga(
    [
      { step: reserve, compensate: undo('inventory', '/inventory/releases') },
      { step: charge, compensate: undo('payments', '/payments/refunds') },
      { step: ship, compensate: undo('shipping', '/shipping/cancellations') },
    ],
    {
      name: ORDER_SAGA,
      log: deps.log,
      id: (order) => order.orderId,
      compensationRetry: { retries: 3, delayMs: 200 },
      compensationTimeoutMs: 30_000,
      ...(deps.leaseMs === undefined ? {} : { leaseMs: deps.leaseMs }),
      ...(deps.instance === undefined ? {} : { instance: deps.instance }),
      // What is logged needs no mapping: the order holds a payment token and the last four digits, never the card.
    },
  );
}

/** Fills in a missing order ID. */
export function withOrderId(body: z.output<typeof orderBodySchema>): OrderRequest {
  return { ...body, orderId: body.orderId ?? `ord_${randomUUID().slice(0, 12)}` };
}
