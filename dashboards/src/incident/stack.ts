/**
 * The incident stack: the real gateway and orders service (built dist, each its own process), a
 * Redis for each, and a real Prometheus (Debian's package) scraping only them with the generated
 * rules loaded; plus the load and fault controls an incident is driven with. Shared by the observe
 * e2e test (every `for:` at 0 s) and `npm run demo:incident` (the shipped `for:` values).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWeftRedis, RedisSagaLog } from '@weft/redis';
import { freePort, RedisServer } from '@weft/test-support';
import type { MonitoringConfig } from '../config.js';
import { generateFiles, PATHS } from '../generate.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const gatewayMain = join(root, 'apps/gateway/dist/main.js');
const ordersMain = join(root, 'apps/orders/dist/main.js');

/** The demo key most load uses. */
export const KEY = 'weft-demo-key-0001';
/** The demo key of cache-hit and rate-limit bursts. */
export const BATCH_KEY = 'weft-demo-key-0002';
/** The demo key with a $0.002 daily budget. */
export const TIGHT_KEY = 'weft-demo-key-tight';
/** The orders demo declines this card: its saga refunds nothing and releases the stock reservation. */
const DECLINED_CARD = '4000000000000002';
/** An address the orders demo's shipping service cannot deliver to. */
export const UNDELIVERABLE_POSTCODE = '00000';
/** The simulated providers. */
export const PROVIDERS = ['alpha', 'beta', 'gamma'] as const;

export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));


/** A child process and the tail of what it wrote to stderr. */
export interface Child {
  readonly process: ChildProcess;
  output(): string;
}

function start(command: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-20_000)));
  return { process: child, output: () => out };
}

async function stop(child: Child | undefined): Promise<void> {
  if (child === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.process.once('exit', () => r()));
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** An alert as Prometheus's `/api/v1/alerts` lists it. */
export interface ActiveAlert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
}

/** Counts of answers by status (or error message). */
type Tally = Map<number | string, number>;

/** The running stack. Build it with {@link IncidentStack.start}; `close()` stops everything. */
export class IncidentStack {
  readonly statuses: Tally = new Map();
  readonly orderStatuses: Tally = new Map();
  readonly streamStatuses: Tally = new Map();
  /** Tick counter across drive() calls, so questions never repeat by accident. */
  n = 0;

  private constructor(
    readonly dir: string,
    readonly gateway: Child,
    readonly orders: Child,
    readonly prometheus: Child,
    readonly redis: RedisServer,
    readonly gatewayRedis: RedisServer,
    readonly gatewayUrl: string,
    readonly simUrl: string,
    readonly ordersUrl: string,
    readonly servicesUrl: string,
    readonly promUrl: string,
    readonly startedAt: number,
  ) {}

  /**
   * Starts the gateway (its cache, budgets, rate limits and breakers in a Redis of its own, which an
   * incident may kill), the orders service (BullMQ jobs on another Redis, with a crashed execution
   * planted for its start-up recovery), and Prometheus scraping both every `scrapeSeconds` with the
   * rules generated from `config`.
   */
  static async start(config: MonitoringConfig, scrapeSeconds: number): Promise<IncidentStack> {
    if (!existsSync(gatewayMain) || !existsSync(ordersMain)) throw new Error(`${gatewayMain} or ${ordersMain} is missing: build first (npm run build)`);
    const dir = mkdtempSync(join(tmpdir(), 'weft-incident-'));
    const startedAt = Date.now();
    // Providers answer in 20-80 ms; each has 12 slots and 4 queue places, so an overload burst
    // overflows them. A provider call may take 3 s, so a brownout slows runs rather than failing them.
    const providerEnv = { SIM_LATENCY_MS: '20', SIM_JITTER_MS: '60', PROVIDER_MAX_CONCURRENT: '12', PROVIDER_MAX_QUEUE: '4', PROVIDER_TIMEOUT_MS: '3000' };
    const gatewayRedis = await RedisServer.launch();
    const gateway = start(process.execPath, [gatewayMain], { PORT: '0', SIM_PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_RPS: '60', RATE_LIMIT_BURST: '60', DAILY_BUDGET_USD: '5', REDIS_URL: gatewayRedis.url, ...providerEnv });
    // Orders run as BullMQ jobs on a Redis of their own, so the queue panels read real series. An
    // execution left as a SIGKILLed worker leaves it (its lease lapsed) is taken over at start-up.
    const redis = await RedisServer.launch();
    const planter = createWeftRedis({ url: redis.url, prefix: 'weft-orders' });
    await planter.ready(5_000);
    const dead = { owner: 'worker-dead/1', leaseMs: 1 };
    const input = { orderId: 'ord-crashed', sku: 'tea', quantity: 1, cardToken: 'tok_dead', last4: '4242', postcode: '10115' };
    const log = new RedisSagaLog(planter);
    await log.begin('place_order', 'ord-crashed', { type: 'started', at: Date.now(), input, owner: dead.owner }, dead);
    await log.append('place_order', 'ord-crashed', { type: 'intent', at: Date.now(), index: 0, step: 'reserve_stock', key: 'ord-crashed:0:reserve_stock' }, dead);
    await planter.close();
    const orders = start(process.execPath, [ordersMain], { PORT: '0', LOG_LEVEL: 'warn', REDIS_URL: redis.url, REDIS_PREFIX: 'weft-orders', SUPERVISE_AFTER_MS: '0', ORDER_WAIT_MS: '500', WORKER_CONCURRENCY: '4' });
    const listening = await waitFor('the gateway to listen', 20_000, () => {
      if (gateway.process.exitCode !== null) throw new Error(`gateway exited: ${gateway.output()}`);
      const m = /listening on (http:\/\/[\d.]+:\d+)[\s\S]*?at (http:\/\/[\d.]+:\d+) \(admin/.exec(gateway.output());
      return Promise.resolve(m === null ? undefined : m);
    });
    const ordersUrl = await waitFor('the orders service to listen', 20_000, () => {
      if (orders.process.exitCode !== null) throw new Error(`orders exited: ${orders.output()}`);
      return Promise.resolve(/Weft orders listening on (http:\/\/[\d.]+:\d+)/.exec(orders.output())?.[1]);
    });
    const servicesUrl = /simulated inventory, payments and shipping at (http:\/\/[\d.]+:\d+)/.exec(orders.output())?.[1];
    if (servicesUrl === undefined) throw new Error(`the orders banner names no simulated services: ${orders.output()}`);

    // Rules: generated from the config, beside their tests.
    const files = generateFiles(config);
    mkdirSync(join(dir, 'alerts'), { recursive: true });
    writeFileSync(join(dir, PATHS.recordingRules), files.get(PATHS.recordingRules)!);
    writeFileSync(join(dir, PATHS.alertRules), files.get(PATHS.alertRules)!);
    const promPort = await freePort();
    const promUrl = `http://127.0.0.1:${promPort}`;
    const target = (url: string) => url.replace(/^http:\/\//, '');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        `global: { scrape_interval: ${scrapeSeconds}s, evaluation_interval: ${scrapeSeconds}s }`,
        `rule_files: [${JSON.stringify(join(dir, PATHS.recordingRules))}, ${JSON.stringify(join(dir, PATHS.alertRules))}]`,
        'scrape_configs:',
        `  - { job_name: weft-gateway, static_configs: [{ targets: [${JSON.stringify(target(listening[1]!))}] }] }`,
        `  - { job_name: weft-orders, static_configs: [{ targets: [${JSON.stringify(target(ordersUrl))}] }] }`,
        '',
      ].join('\n'),
    );
    const prometheus = start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], {});
    await waitFor('Prometheus to be ready', 30_000, async () => {
      if (prometheus.process.exitCode !== null) throw new Error(`prometheus exited: ${prometheus.output()}`);
      return (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined;
    });
    return new IncidentStack(dir, gateway, orders, prometheus, redis, gatewayRedis, listening[1]!, listening[2]!, ordersUrl, servicesUrl, promUrl, startedAt);
  }

  private static count(tally: Tally, key: number | string): void {
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }

  /** One answer, read to its end; its status is tallied. Never throws. */
  answer(key: string, question: string, tier: string): Promise<void> {
    return fetch(`${this.gatewayUrl}/v1/answer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ question, tier }) })
      .then(async (r) => {
        await r.arrayBuffer();
        IncidentStack.count(this.statuses, r.status);
      })
      .catch((error: Error) => IncidentStack.count(this.statuses, error.message));
  }

  /** One order; its status is tallied. Never throws. */
  placeOrder(card: string, postcode = '10115', orderId?: string): Promise<void> {
    return fetch(`${this.ordersUrl}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'tea', quantity: 1, card, postcode, ...(orderId === undefined ? {} : { orderId }) }) })
      .then(async (r) => {
        await r.arrayBuffer();
        IncidentStack.count(this.orderStatuses, r.status);
      })
      .catch((error: Error) => IncidentStack.count(this.orderStatuses, error.message));
  }

  /** A streamed chat completion (OpenAI's protocol), read to its end. Never throws. */
  streamChat(question: string): Promise<void> {
    return fetch(`${this.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      // Economy: its provider (alpha) is not the premium one, so streams do not take the slots hedging needs.
      body: JSON.stringify({ model: 'economy', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: question }] }),
    })
      .then(async (r) => {
        await r.arrayBuffer();
        IncidentStack.count(this.streamStatuses, r.status);
      })
      .catch((error: Error) => IncidentStack.count(this.streamStatuses, error.message));
  }

  /** Changes one simulated provider's behaviour through the admin endpoint. */
  async configureProvider(name: string, behaviour: Record<string, unknown>): Promise<void> {
    const r = await fetch(`${this.simUrl}/admin/providers/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(behaviour) });
    if (!r.ok) throw new Error(`PUT /admin/providers/${name} answered ${r.status}`);
  }

  /** Calls an admin endpoint of the orders demo's simulated services (`/admin/latency`, `/admin/compensations`). */
  async services(path: string, body: unknown): Promise<void> {
    const r = await fetch(`${this.servicesUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`POST ${path} answered ${r.status}`);
  }

  /** Load for `ms`: standard and premium answers from one key, cache hits and rate-limit bursts from another, an order (every third one declined), a streamed chat completion; four ticks a second. */
  async drive(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const tick = Date.now();
      const n = ++this.n;
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 4; i++) batch.push(this.answer(KEY, `standard question ${n}-${i}`, 'standard'));
      for (let i = 0; i < 3; i++) batch.push(this.answer(KEY, `premium question ${n}-${i}`, 'premium'));
      batch.push(this.answer(KEY, `a common question ${n % 3}`, 'standard'));
      if (n % 5 === 0) for (let i = 0; i < 70; i++) batch.push(this.answer(BATCH_KEY, `a common question ${i % 3}`, 'standard'));
      if (this.orders.process.exitCode === null && this.orders.process.signalCode === null) batch.push(this.placeOrder(n % 3 === 0 ? DECLINED_CARD : '4242424242424242'));
      batch.push(this.streamChat(`streamed question ${n}`));
      await Promise.all(batch);
      await sleep(Math.max(0, 250 - (Date.now() - tick)));
    }
  }

  /** A Prometheus HTTP API call; throws with Prometheus's error text. */
  async prom(path: string, params: Record<string, string>): Promise<unknown> {
    const response = await fetch(`${this.promUrl}${path}?${new URLSearchParams(params).toString()}`);
    const body = (await response.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error ?? 'no error text'}`);
    return body.data;
  }

  /** Every pending or firing alert. */
  async alerts(): Promise<ActiveAlert[]> {
    return ((await this.prom('/api/v1/alerts', {})) as { alerts: ActiveAlert[] }).alerts;
  }

  /** Firing alerts by name, with their labels. */
  async firingAlerts(): Promise<Map<string, Array<Record<string, string>>>> {
    const byName = new Map<string, Array<Record<string, string>>>();
    for (const a of await this.alerts()) if (a.state === 'firing') byName.set(a.labels.alertname!, [...(byName.get(a.labels.alertname!) ?? []), a.labels]);
    return byName;
  }

  /** Stops Prometheus, the services and both Redis servers, and removes the scratch directory. */
  async close(): Promise<void> {
    await Promise.allSettled([stop(this.prometheus), stop(this.gateway), stop(this.orders)]);
    await Promise.allSettled([this.redis.kill(), this.gatewayRedis.kill()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
