import { createWeftRedis, RedisSagaLog } from '@weft/redis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenUrl } from '@weft/service-kit';
import { RedisServer, redisServerGate } from '@weft/test-support';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { DECLINED_CARD, UNDELIVERABLE_POSTCODE } from './simulated-services.js';
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
  });

  it('releases the stock when the payment fails, and answers 402', async () => {
    const res = await order(url, { ...good, card: DECLINED_CARD }, { 'x-correlation-id': 'order-declined' });
    expect(res.status).toBe(402);
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
describe.skipIf(redisGate.skip)('orders with the saga log in Redis', () => {
  let redis: RedisServer | undefined;
  let app: FastifyInstance | undefined;
  let url: string;
  beforeAll(async () => {
    if (redisGate.failure !== undefined) throw new Error(redisGate.failure);
    redis = await RedisServer.launch();
    const prefix = `orders-test-${process.pid}`;
    // A crash after the reservation: the saga started and reserved stock, then nothing.
    const client = createWeftRedis({ url: redis.url, prefix });
    await client.ready(5_000);
    const log = new RedisSagaLog(client);
    const input = { orderId: 'ord-crashed', ...good };
    await log.append(ORDER_SAGA, 'ord-crashed', { type: 'started', at: Date.now() - 60_000, input });
    await log.append(ORDER_SAGA, 'ord-crashed', { type: 'step', at: Date.now() - 59_000, index: 0, step: 'reserve_stock', output: { ...input, reservationId: 'res_crashed' } });
    await client.close();
    ({ app, url } = await boot({ REDIS_URL: redis.url, REDIS_PREFIX: prefix }));
  });
  afterAll(async () => {
    await app?.close();
    await redis?.kill();
  });

  it('recovers an execution a crash left unfinished at start-up, releasing its stock', () => {
    expect(app!.orders.recovered).toEqual([{ sagaId: 'ord-crashed', outcome: 'compensated', errors: [] }]);
    expect(app!.orders.services!.journal.map((e) => `${e.action} ${e.id}`)).toContain('release res_crashed');
  });

  it('places orders with the log in Redis, and readiness answers 503 with the reason once Redis drops', async () => {
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    expect((await order(url, good)).status).toBe(201);
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
