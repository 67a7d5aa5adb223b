import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

/** A card number whose charge the simulated payments service declines (like a PSP's test card). */
export const DECLINED_CARD = '4000000000000002';
/** A postcode the simulated shipping service cannot deliver to. */
export const UNDELIVERABLE_POSTCODE = '00000';

/** An effect the simulated services made or undid, in order: the record a reconciler checks the saga log against. */
interface JournalEntry {
  readonly action: 'reserve' | 'release' | 'charge' | 'refund' | 'ship' | 'cancel-shipment';
  /** The resource's ID (`res_...`, `ch_...`, `shp_...`). */
  readonly id: string;
  /** The forward call's idempotency key: `<orderId>:<step index>:<step>`. */
  readonly key: string;
  readonly orderId: string | undefined;
  readonly correlationId: string | undefined;
}

/** The running simulated services. */
export interface SimulatedServices {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every effect made or undone, in order (also served at `GET /journal`). */
  readonly journal: readonly JournalEntry[];
  /** Adds a delay to every call, in ms (for drain tests and demos; also `POST /admin/latency {"ms":300}`). `POST /admin/compensations {"fail":true}` makes every compensation fail with 503 until set back. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

type Kind = 'reserve' | 'charge' | 'ship';
const UNDO = { reserve: 'release', charge: 'refund', ship: 'cancel-shipment' } as const;
const PREFIX = { reserve: 'res', charge: 'ch', ship: 'shp' } as const;

/**
 * Starts simulated inventory, payments and shipping services on loopback, behaving as real payment
 * and fulfilment APIs do under retries and crashes:
 *
 * - every forward call needs an `idempotency-key` header; a repeat of a key returns the first
 *   result and has no second effect;
 * - compensations are by that key (`POST /inventory/releases`, `/payments/refunds`,
 *   `/shipping/cancellations` with `{ "key": ... }`), are idempotent, and tolerate "nothing to
 *   undo" by leaving a tombstone: a forward call that arrives after its compensation is refused
 *   (409), so a late request never leaves an effect behind;
 * - card numbers are exchanged for tokens (`POST /payments/tokens`); charges take the token.
 *   Charges with {@link DECLINED_CARD}'s token are declined (402), shipments to
 *   {@link UNDELIVERABLE_POSTCODE} fail (422), so every compensation path can be driven.
 *
 * @example
 * ```ts
 * const services = await startSimulatedServices(0);
 * // POST `${services.url}/inventory/reservations` with an idempotency-key header ...
 * await services.close();
 * ```
 */
export async function startSimulatedServices(port: number, latencyMs = 0, host = '127.0.0.1'): Promise<SimulatedServices> {
  const app = Fastify({ logger: false });
  const journal: JournalEntry[] = [];
  const byKey = new Map<string, { kind: Kind; id: string; state: 'done' | 'undone' } | { kind: Kind; state: 'tombstone' }>();
  const tokens = new Map<string, { token: string; last4: string; declined: boolean }>();
  let latency = latencyMs;
  /** While set, every compensation (release, refund, cancellation) fails with 503: the undo path's outage. */
  let failCompensations = false;
  const header = (headers: Record<string, unknown>, name: string): string | undefined => {
    const v = headers[name];
    return typeof v === 'string' && v.length > 0 && v.length <= 255 ? v : undefined;
  };
  app.addHook('preHandler', async (req) => {
    if (latency > 0 && !req.url.startsWith('/journal') && !req.url.startsWith('/admin')) await new Promise((r) => setTimeout(r, latency));
  });

  type Body = { orderId?: string; cardToken?: string; card?: string; postcode?: string; key?: string };
  const forward = (kind: Kind, refuse?: (body: Body) => { status: number; error: string; message: string } | undefined) =>
    app.post<{ Body: Body }>(`/${kind === 'reserve' ? 'inventory/reservations' : kind === 'charge' ? 'payments/charges' : 'shipping/shipments'}`, async (req, reply) => {
      const key = header(req.headers, 'idempotency-key');
      if (key === undefined) return reply.code(400).send({ error: 'idempotency_key_required', message: 'Send an idempotency-key header.' });
      const seen = byKey.get(key);
      if (seen?.state === 'tombstone' || seen?.state === 'undone') return reply.code(409).send({ error: 'cancelled', message: 'This request was cancelled.' });
      if (seen?.state === 'done') return reply.code(201).send({ id: seen.id, replayed: true });
      const refusal = refuse?.(req.body ?? {});
      if (refusal) return reply.code(refusal.status).send({ error: refusal.error, message: refusal.message });
      const id = `${PREFIX[kind]}_${randomUUID().slice(0, 8)}`;
      byKey.set(key, { kind, id, state: 'done' });
      journal.push({ action: kind, id, key, orderId: req.body?.orderId, correlationId: header(req.headers, 'x-correlation-id') });
      return reply.code(201).send({ id });
    });
  const undo = (kind: Kind, path: string) =>
    app.post<{ Body: Body }>(path, async (req, reply) => {
      const key = req.body?.key;
      if (typeof key !== 'string' || key.length === 0 || key.length > 255) return reply.code(400).send({ error: 'key_required', message: 'Send { "key": <the forward idempotency key> }.' });
      if (failCompensations) return reply.code(503).send({ error: 'unavailable', message: 'The service is down.' });
      const seen = byKey.get(key);
      if (seen === undefined) {
        byKey.set(key, { kind, state: 'tombstone' });
        return reply.send({ undone: false, reason: 'nothing_to_undo' });
      }
      if (seen.state === 'done') {
        byKey.set(key, { ...seen, state: 'undone' });
        journal.push({ action: UNDO[kind], id: seen.id, key, orderId: key.split(':')[0], correlationId: header(req.headers, 'x-correlation-id') });
      }
      return reply.send({ undone: true });
    });

  app.post<{ Body: Body }>('/payments/tokens', async (req, reply) => {
    const card = req.body?.card;
    if (typeof card !== 'string' || !/^\d{12,19}$/.test(card)) return reply.code(400).send({ error: 'invalid_card', message: 'Send { "card": <12-19 digits> }.' });
    const key = header(req.headers, 'idempotency-key') ?? randomUUID();
    let t = tokens.get(key);
    if (t === undefined) {
      t = { token: `tok_${randomUUID().replace(/-/g, '').slice(0, 16)}`, last4: card.slice(-4), declined: card === DECLINED_CARD };
      tokens.set(key, t);
      tokens.set(t.token, t);
    }
    return reply.code(201).send({ token: t.token, last4: t.last4 });
  });
  forward('reserve');
  forward('charge', (body) => {
    const token = typeof body.cardToken === 'string' && body.cardToken.startsWith('tok_') ? tokens.get(body.cardToken) : undefined;
    if (token === undefined) return { status: 400, error: 'invalid_token', message: 'Send a cardToken from POST /payments/tokens.' };
    return token.declined ? { status: 402, error: 'card_declined', message: 'The card was declined.' } : undefined;
  });
  forward('ship', (body) => (body.postcode === UNDELIVERABLE_POSTCODE ? { status: 422, error: 'undeliverable', message: 'We cannot ship to that postcode.' } : undefined));
  undo('reserve', '/inventory/releases');
  undo('charge', '/payments/refunds');
  undo('ship', '/shipping/cancellations');
  app.get('/journal', () => Promise.resolve(journal));
  app.post<{ Body: { fail?: boolean } }>('/admin/compensations', (req) => {
    failCompensations = req.body?.fail === true;
    return Promise.resolve({ fail: failCompensations });
  });
  app.post<{ Body: { ms?: number } }>('/admin/latency', (req) => {
    latency = Math.max(0, Math.min(60_000, Number(req.body?.ms) || 0));
    return Promise.resolve({ latencyMs: latency });
  });

  await app.listen({ port, host });
  const address = app.server.address();
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url,
    journal,
    setLatency: (ms) => {
      latency = ms;
    },
    close: () => app.close(),
  };
}
