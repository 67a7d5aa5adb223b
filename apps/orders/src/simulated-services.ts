import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

/** A card number whose charge the simulated payments service declines (like a PSP's test card). */
export const DECLINED_CARD = '4000000000000002';
/** A postcode the simulated shipping service cannot deliver to. */
export const UNDELIVERABLE_POSTCODE = '00000';

/** One call the simulated services received, in order: what tests and the demo inspect. */
interface JournalEntry {
  readonly action: 'reserve' | 'release' | 'charge' | 'refund' | 'ship' | 'cancel-shipment';
  readonly id: string;
  readonly correlationId: string | undefined;
}

/** The running simulated services. */
export interface SimulatedServices {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every call received, in order. */
  readonly journal: readonly JournalEntry[];
  /** Adds a delay to every call, in ms (for drain tests and demos). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/**
 * Starts simulated inventory, payments and shipping services on loopback. Charges to
 * {@link DECLINED_CARD} are declined (402) and shipments to {@link UNDELIVERABLE_POSTCODE} fail (422),
 * so every compensation path can be driven from a request.
 *
 * @example
 * ```ts
 * const services = await startSimulatedServices(0);
 * // POST `${services.url}/inventory/reservations` ...
 * await services.close();
 * ```
 */
export async function startSimulatedServices(port: number, latencyMs = 0): Promise<SimulatedServices> {
  const app = Fastify({ logger: false });
  const journal: JournalEntry[] = [];
  let latency = latencyMs;
  const note = (action: JournalEntry['action'], id: string, headers: Record<string, unknown>): void => {
    const cid = headers['x-correlation-id'];
    journal.push({ action, id, correlationId: typeof cid === 'string' ? cid : undefined });
  };
  app.addHook('preHandler', async () => {
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  });
  type Body = { orderId?: string; card?: string; postcode?: string };
  app.post<{ Body: Body }>('/inventory/reservations', async (req, reply) => {
    const id = `res_${randomUUID().slice(0, 8)}`;
    note('reserve', id, req.headers);
    return reply.code(201).send({ reservationId: id });
  });
  app.delete<{ Params: { id: string } }>('/inventory/reservations/:id', (req) => {
    note('release', req.params.id, req.headers);
    return Promise.resolve({ released: true });
  });
  app.post<{ Body: Body }>('/payments/charges', async (req, reply) => {
    if (req.body?.card === DECLINED_CARD) return reply.code(402).send({ error: 'card_declined', message: 'The card was declined.' });
    const id = `ch_${randomUUID().slice(0, 8)}`;
    note('charge', id, req.headers);
    return reply.code(201).send({ chargeId: id });
  });
  app.post<{ Params: { id: string } }>('/payments/charges/:id/refund', (req) => {
    note('refund', req.params.id, req.headers);
    return Promise.resolve({ refunded: true });
  });
  app.post<{ Body: Body }>('/shipping/shipments', async (req, reply) => {
    if (req.body?.postcode === UNDELIVERABLE_POSTCODE) return reply.code(422).send({ error: 'undeliverable', message: 'We cannot ship to that postcode.' });
    const id = `shp_${randomUUID().slice(0, 8)}`;
    note('ship', id, req.headers);
    return reply.code(201).send({ shipmentId: id });
  });
  app.delete<{ Params: { id: string } }>('/shipping/shipments/:id', (req) => {
    note('cancel-shipment', req.params.id, req.headers);
    return Promise.resolve({ cancelled: true });
  });
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url,
    journal,
    setLatency: (ms) => {
      latency = ms;
    },
    close: () => app.close(),
  };
}
