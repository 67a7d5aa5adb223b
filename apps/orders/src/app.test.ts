import { createWeftRedis, RedisSagaLog } from '@weft/redis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenUrl } from '@weft/service-kit';
import { RedisServer, redisServerGate } from '@weft/test-support';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { DECLINED_CARD, startSimulatedServices, UNDELIVERABLE_POSTCODE, type SimulatedServices } from './simulated-services.js';
import { ORDER_SAGA } from './workflow.js';

async function boot(env: Record<string, string> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: listenUrl(app.server.address(), '127.0.0.1', 0) };
}

function order(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

const good = { sku: 'tea', quantity: 2, card: '4242424242424242', postcode: '10115' };

describe('orders (demo mode, in-memory saga log)', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await boot());
  });
  afterAll(async () => {
    await app?.close();
  });
  const journalOf = (correlationId: string) => app.orders.services!.journal.filter((e) => e.correlationId === correlationId).map((e) => `${e.action} ${e.id}`);

  it('reserves, charges and ships over HTTP, carrying the correlation ID to every service', async () => {
    const res = await order(url, { ...good, orderId: 'ord-happy' }, { 'x-correlation-id': 'order-happy' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-correlation-id')).toBe('order-happy');
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ orderId: 'ord-happy', correlationId: 'order-happy' });
    expect(journalOf('order-happy')).toEqual([`reserve ${body.reservationId}`, `charge ${body.chargeId}`, `ship ${body.shipmentId}`]);
    expect(body.last4).toBe('4242');
  });

  it('places an order ID once: concurrent duplicates get 409, a later one the recorded outcome', async () => {
    app.orders.services!.setLatency(50);
    try {
      const responses = await Promise.all(Array.from({ length: 5 }, () => order(url, { ...good, orderId: 'ord-dup' }, { 'x-correlation-id': 'order-dup' })));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409]);
      const first = (await responses.find((r) => r.status === 201)!.json()) as Record<string, string>;
      const again = await order(url, { ...good, orderId: 'ord-dup' });
      expect(again.status).toBe(201);
      expect(await again.json()).toMatchObject({ orderId: 'ord-dup', chargeId: first.chargeId });
      expect(app.orders.services!.journal.filter((e) => e.orderId === 'ord-dup').map((e) => e.action)).toEqual(['reserve', 'charge', 'ship']);
      expect((await (await fetch(`${url}/v1/orders/ord-dup`)).json()) as object).toMatchObject({ status: 'completed', chargeId: first.chargeId });
    } finally {
      app.orders.services!.setLatency(0);
    }
  });

  it('releases the stock when the payment fails, and answers 402', async () => {
    const res = await order(url, { ...good, card: DECLINED_CARD, orderId: 'ord-declined' }, { 'x-correlation-id': 'order-declined' });
    expect(res.status).toBe(402);
    // The same order again answers with its recorded outcome, and charges nothing.
    expect((await order(url, { ...good, card: DECLINED_CARD, orderId: 'ord-declined' })).status).toBe(402);
    expect(await res.json()).toMatchObject({ error: 'payment_declined', compensated: true, correlationId: 'order-declined' });
    const journal = journalOf('order-declined');
    expect(journal).toHaveLength(2);
    expect(journal[0]).toMatch(/^reserve res_/);
    expect(journal[1]).toBe(journal[0]!.replace('reserve', 'release'));
  });

  it('compensates the completed steps in reverse order when a later step fails', async () => {
    const res = await order(url, { ...good, postcode: UNDELIVERABLE_POSTCODE }, { 'x-correlation-id': 'order-unshippable' });
    expect(res.status).toBe(422);
    const journal = journalOf('order-unshippable');
    const [reserve, charge] = journal;
    expect(journal).toEqual([reserve, charge, charge!.replace('charge', 'refund'), reserve!.replace('reserve', 'release')]);
  });

  it("answers 400 with zod's message for bad JSON and bad orders", async () => {
    expect((await order(url, '{"sku":')).status).toBe(400);
    const res = await order(url, { ...good, quantity: 0 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/quantity: Too small/);
  });

  it('serves liveness, readiness and metrics', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/weft_workflow_runs_total\{[^}]*workflow="place_order"/);
    expect(metrics).toMatch(/process_resident_memory_bytes/);
  });
});

const redisGate = redisServerGate();
describe.skipIf(redisGate.skip)('orders as BullMQ jobs, with the saga log in Redis', () => {
  let redis: RedisServer | undefined;
  let services: SimulatedServices | undefined;
  let app: FastifyInstance | undefined;
  let url: string;
  const prefix = `orders-test-${process.pid}`;
  beforeAll(async () => {
    if (redisGate.failure !== undefined) throw new Error(redisGate.failure);
    redis = await RedisServer.launch();
    services = await startSimulatedServices(0);
    // A process killed after reserving stock: the saga started and reserved, then nothing. Its lease lapsed.
    const reserved = await fetch(`${services.url}/inventory/reservations`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'ord-crashed:0:reserve_stock' }, body: JSON.stringify({ orderId: 'ord-crashed' }) });
    const reservationId = ((await reserved.json()) as { id: string }).id;
    const client = createWeftRedis({ url: redis.url, prefix });
    await client.ready(5_000);
    const log = new RedisSagaLog(client);
    const lease = { owner: 'dead-1/x', leaseMs: 1 };
    const input = { orderId: 'ord-crashed', sku: 'tea', quantity: 1, cardToken: 'tok_x', last4: '4242', postcode: '10115' };
    await log.begin(ORDER_SAGA, 'ord-crashed', { type: 'started', at: Date.now() - 60_000, input, owner: lease.owner }, lease);
    await log.append(ORDER_SAGA, 'ord-crashed', { type: 'intent', at: Date.now() - 60_000, index: 0, step: 'reserve_stock', key: 'ord-crashed:0:reserve_stock' }, lease);
    await log.append(ORDER_SAGA, 'ord-crashed', { type: 'step', at: Date.now() - 59_000, index: 0, step: 'reserve_stock', output: { ...input, reservationId } }, lease);
    await client.close();
    ({ app, url } = await boot({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, ORDERS_SERVICES_URL: services.url, SUPERVISE_AFTER_MS: '0', SHUTDOWN_TIMEOUT_MS: '2000' }));
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await redis?.kill();
  });

  it('compensates at start-up an execution a dead instance left, releasing its stock', () => {
    expect(app!.orders.recovered).toEqual([{ sagaId: 'ord-crashed', outcome: 'compensated', errors: [] }]);
    expect(services!.journal.filter((e) => e.orderId === 'ord-crashed').map((e) => e.action)).toEqual(['reserve', 'release']);
  });

  it('places orders through the queue, replays a duplicate, and answers a declined card with 402', async () => {
    const res = await order(url, { ...good, orderId: 'ord-q1' }, { 'x-correlation-id': 'order-q1' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    const again = await order(url, { ...good, orderId: 'ord-q1' });
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ chargeId: body.chargeId });
    expect(services!.journal.filter((e) => e.orderId === 'ord-q1').map((e) => `${e.action} ${e.correlationId}`)).toEqual(['reserve order-q1', 'charge order-q1', 'ship order-q1']);
    const declined = await order(url, { ...good, card: DECLINED_CARD, orderId: 'ord-q2' });
    expect(declined.status).toBe(402);
    expect((await order(url, { ...good, card: DECLINED_CARD, orderId: 'ord-q2' })).status).toBe(402);
    expect(await app!.orders.queue!.deadLetters.list()).toEqual([]);
  });

  it('keeps the card number out of every Redis key: saga log and job data', async () => {
    const client = createWeftRedis({ url: redis!.url, prefix });
    await client.ready(5_000);
    try {
      const keys = await client.command<string[]>(['KEYS', '*']);
      expect(keys.some((k) => k.includes(':saga:'))).toBe(true);
      expect(keys.some((k) => k.includes(ORDER_SAGA) && !k.includes(':saga:'))).toBe(true);
      const dump = (await Promise.all(keys.map((k) => client.command<string | null>(['DUMP', k])))).join('');
      expect(dump).not.toContain(good.card);
      expect(dump).not.toContain(DECLINED_CARD);
    } finally {
      await client.close();
    }
  });

  it('answers readiness 503 with the reason once Redis drops', async () => {
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    await redis!.kill();
    let res: Response | undefined;
    for (let i = 0; i < 40; i++) {
      res = await fetch(`${url}/health/ready`);
      if (res.status === 503) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(res!.status).toBe(503);
    expect(((await res!.json()) as { reason: string }).reason).toMatch(/^redis: /);
  });
});
