/**
 * Chaos against the orders service as it runs in production: two API instances and two workers
 * (the built `apps/orders/dist/main.js` with `ORDERS_ROLE=api|worker`) on one Redis, the simulated
 * inventory, payments and shipping services in a process of their own that is never killed (its
 * journal is the independent record). Concurrent orders, with duplicate order IDs, declined cards
 * and undeliverable postcodes, while random API and worker processes are SIGKILLed and restarted;
 * optionally Redis itself is killed and restarted (append-only file, fsync always). Then it waits
 * for leases to lapse and work to settle, and reconciles the services' journal against the saga
 * log and the answers clients got.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RedisSagaLog, createWeftRedis, type WeftRedis } from '@weft/redis';
import type { SagaRecord } from '@weft/core';
import { RedisServer } from '@weft/test-support';

/** How hard to push. */
export interface OrdersChaosOptions {
  /** Orders placed (distinct IDs). */
  readonly orders: number;
  /** Orders in flight at once. */
  readonly concurrency: number;
  /** SIGKILLs of a random API or worker process (each restarted), at least. */
  readonly kills: number;
  /** Milliseconds between kills. */
  readonly killEveryMs: number;
  /** Kill Redis mid-load and restart it. */
  readonly killRedis: boolean;
  /**
   * Whether Redis keeps an append-only file (fsync on every write), so a restart loses nothing it
   * acknowledged. Without it a restarted Redis is empty: the run shows what that loses.
   * @default true
   */
  readonly redisAof?: boolean;
  /** Latency the simulated services add to every call, so kills land mid-saga. */
  readonly serviceLatencyMs: number;
  /** Progress lines go here. */
  readonly log: (line: string) => void;
}

/** What the run found. The last three are 0 when nothing was lost. */
export interface OrdersChaosReport {
  readonly completed: number;
  readonly compensated: number;
  readonly halfUndone: number;
  readonly duplicatedEffects: number;
  readonly liveTakeovers: number;
  readonly kills: number;
  readonly redisKills: number;
  readonly takeovers: number;
  readonly neverStarted: number;
  /** Orders whose steps all took effect but whose saga record is gone (Redis restarted without persistence). */
  readonly recordsLost: number;
  readonly answers: Readonly<Record<string, number>>;
  /** Every key in Redis after the run, searched for the test card numbers. */
  readonly cardInRedis: boolean;
  /** Orders found inconsistent, with why (at most 20). */
  readonly problems: readonly string[];
  /** The one line the issue asks for. */
  readonly line: string;
}

const ORDER_SAGA = 'place_order';
const PREFIX = 'chaos';
const CARD = '4242424242424242';
const DECLINED = '4000000000000002';

interface Proc {
  readonly name: string;
  role: 'api' | 'worker';
  generation: number;
  child: ChildProcess;
  url: string;
}

const mainJs = (): string => join(dirname(createRequire(import.meta.url).resolve('@weft/orders/package.json')), 'dist');

function spawnNode(script: string, env: Record<string, string>, ready: RegExp, log: (l: string) => void): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${err.slice(-500)}`)), 20_000);
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      const m = err.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
      if (err.length > 20_000) err = err.slice(-5_000);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM') log(`${script} exited ${code ?? signal}: ${err.slice(-300)}`);
      reject(new Error(`${script} exited before it was ready (${code ?? signal})`));
    });
  });
}

/** Runs the scenario and reconciles it. */
export async function runOrdersChaos(o: OrdersChaosOptions): Promise<OrdersChaosReport> {
  const aof = o.redisAof ?? true;
  const redis = await RedisServer.launch({ appendOnly: aof });
  const procs: Proc[] = [];
  let services: ChildProcess | undefined;
  let client: WeftRedis | undefined;
  const killed = new Set<string>();
  let kills = 0;
  let redisKills = 0;
  try {
    const dist = mainJs();
    const s = await spawnNode(join(dist, 'services-main.js'), { PORT: '0' }, /services listening on (http:\/\/\S+)/, o.log);
    services = s.child;
    const servicesUrl = s.match[1]!;
    await fetch(`${servicesUrl}/admin/latency`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms: o.serviceLatencyMs }) });
    const env = (p: Proc): Record<string, string> => ({
      PORT: '0',
      REDIS_URL: redis.url,
      REDIS_PREFIX: PREFIX,
      ORDERS_SERVICES_URL: servicesUrl,
      ORDERS_ROLE: p.role,
      INSTANCE_ID: `${p.name}-g${p.generation}`,
      SAGA_LEASE_MS: '1000',
      JOB_LOCK_MS: '2000',
      JOB_STALLED_INTERVAL_MS: '1000',
      SUPERVISE_AFTER_MS: '8000',
      ORDER_WAIT_MS: '8000',
      SERVICE_TIMEOUT_MS: '2000',
      WORKER_CONCURRENCY: '8',
      SHUTDOWN_TIMEOUT_MS: '2000',
    });
    const start = async (p: Proc): Promise<void> => {
      const r = await spawnNode(join(dist, 'main.js'), env(p), /listening on (http:\/\/\S+)/, o.log);
      p.child = r.child;
      p.url = r.match[1]!;
    };
    for (const [name, role] of [['api-1', 'api'], ['api-2', 'api'], ['worker-1', 'worker'], ['worker-2', 'worker']] as const) {
      const p: Proc = { name, role, generation: 1, child: undefined as never, url: '' };
      await start(p);
      procs.push(p);
    }
    o.log(`started 2 API instances, 2 workers, the services and Redis (${aof ? 'append-only, fsync always' : 'no persistence'}${o.killRedis ? ', killed mid-load' : ''})`);

    // --- load -----------------------------------------------------------------------------------
    const answers: Record<string, number> = {};
    const told201 = new Set<string>();
    const attempted = new Set<string>();
    const note = (a: string): void => void (answers[a] = (answers[a] ?? 0) + 1);
    const apis = (): Proc[] => procs.filter((p) => p.role === 'api' && p.url !== '');
    const post = async (orderId: string, body: object): Promise<void> => {
      attempted.add(orderId);
      for (let attempt = 0; attempt < 12; attempt++) {
        const api = apis()[Math.floor(Math.random() * apis().length)];
        if (api === undefined) {
          await sleep(200);
          continue;
        }
        try {
          const res = await fetch(`${api.url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId, ...body }), signal: AbortSignal.timeout(20_000) });
          await res.arrayBuffer();
          if (res.status === 503 || res.status === 409) {
            note(String(res.status));
            await sleep(300);
            continue;
          }
          if (res.status === 202) {
            note('202');
            return;
          }
          note(String(res.status));
          if (res.status === 201) told201.add(orderId);
          return;
        } catch {
          note('connection_error');
          await sleep(200);
        }
      }
      note('gave_up');
    };
    const kinds = (i: number): object => {
      const card = i % 10 === 3 ? DECLINED : CARD;
      const postcode = i % 20 === 7 ? '00000' : '10115';
      return { sku: 'tea', quantity: 1 + (i % 3), card, postcode };
    };
    let next = 0;
    let loadDone = false;
    const runner = async (): Promise<void> => {
      while (next < o.orders) {
        const i = next++;
        const id = `ord-chaos-${i}`;
        const body = kinds(i);
        // One in ten is sent twice at once (a client retrying on another instance); one in twenty again afterwards.
        if (i % 10 === 5) await Promise.all([post(id, body), post(id, body)]);
        else await post(id, body);
        if (i % 20 === 11) await post(id, body);
      }
    };
    const killer = (async () => {
      while (!loadDone || kills < o.kills) {
        await sleep(o.killEveryMs);
        const victim = procs[Math.floor(Math.random() * procs.length)]!;
        const instance = `${victim.name}-g${victim.generation}`;
        killed.add(instance);
        kills++;
        victim.url = '';
        victim.child.kill('SIGKILL');
        o.log(`kill ${kills}: SIGKILL ${instance}`);
        await sleep(300);
        victim.generation++;
        await start(victim);
      }
    })();
    // Redis dies when half the orders have been sent: mid-load, with sagas and jobs in flight.
    const redisKiller = (async () => {
      if (!o.killRedis) return;
      while (next < o.orders / 2) await sleep(20);
      o.log(`killing Redis (SIGKILL) after ${next} orders were sent; restarting it in 1 s`);
      redisKills++;
      await redis.kill();
      await sleep(1_000);
      await redis.start();
    })();
    await Promise.all(Array.from({ length: o.concurrency }, runner));
    loadDone = true;
    await Promise.all([killer, redisKiller]);
    o.log(`load done: ${attempted.size} order IDs, answers ${JSON.stringify(answers)}; waiting for leases to lapse and work to settle`);

    // --- settle -------------------------------------------------------------------------------
    client = createWeftRedis({ url: redis.url, prefix: PREFIX });
    await client.ready(5_000);
    const log = new RedisSagaLog(client);
    const queueKey = (k: string): string => `{${PREFIX}}:${ORDER_SAGA}:${k}`;
    const settleBy = Date.now() + 90_000;
    for (;;) {
      const unfinished = (await log.unfinished(ORDER_SAGA)).length;
      const [wait, active, delayed, prioritized] = await Promise.all([
        client.command<number>(['LLEN', queueKey('wait')]),
        client.command<number>(['LLEN', queueKey('active')]),
        client.command<number>(['ZCARD', queueKey('delayed')]),
        client.command<number>(['ZCARD', queueKey('prioritized')]),
      ]);
      if (unfinished === 0 && wait + active + delayed + prioritized === 0) break;
      if (Date.now() > settleBy) {
        o.log(`not settled after 90 s: ${unfinished} unfinished sagas, ${wait + active + delayed + prioritized} jobs queued or active`);
        break;
      }
      await sleep(500);
    }

    // --- reconcile ----------------------------------------------------------------------------
    const journal = (await (await fetch(`${servicesUrl}/journal`)).json()) as Array<{ action: string; key: string; orderId?: string }>;
    const effects = new Map<string, Map<string, { done: number; undone: number }>>();
    const FORWARD: Record<string, string> = { reserve: 'reserve', charge: 'charge', ship: 'ship', release: 'reserve', refund: 'charge', 'cancel-shipment': 'ship' };
    for (const e of journal) {
      const orderId = e.key.split(':')[0]!;
      const kind = FORWARD[e.action]!;
      const byKind = effects.get(orderId) ?? new Map<string, { done: number; undone: number }>();
      effects.set(orderId, byKind);
      const c = byKind.get(kind) ?? { done: 0, undone: 0 };
      byKind.set(kind, c);
      if (e.action === kind) c.done++;
      else c.undone++;
    }
    let completed = 0;
    let compensated = 0;
    let halfUndone = 0;
    let duplicatedEffects = 0;
    let liveTakeovers = 0;
    let takeovers = 0;
    let neverStarted = 0;
    let recordsLost = 0;
    const problems: string[] = [];
    const problem = (p: string): void => {
      halfUndone++;
      if (problems.length < 20) problems.push(p);
    };
    for (const orderId of attempted) {
      const record: SagaRecord | undefined = await log.get(ORDER_SAGA, orderId);
      const byKind = effects.get(orderId) ?? new Map<string, { done: number; undone: number }>();
      const active = [...byKind.entries()].filter(([, c]) => c.done > c.undone).map(([k]) => k);
      for (const [kind, c] of byKind) {
        if (c.done > 1) duplicatedEffects += c.done - 1;
        if (c.undone > c.done) problems.push(`${orderId}: ${kind} undone more often than done`);
      }
      for (const e of record?.entries ?? []) {
        if (e.type !== 'takeover') continue;
        takeovers++;
        const previous = e.previous?.split('/')[0];
        if (previous !== undefined && !killed.has(previous)) {
          liveTakeovers++;
          if (problems.length < 20) problems.push(`${orderId}: taken over from ${previous}, which was alive`);
        }
      }
      const last = record?.entries.at(-1);
      const outcome = last?.type === 'finished' ? last.outcome : record === undefined ? 'none' : 'unfinished';
      if (outcome === 'completed') {
        completed++;
        if (active.length !== 3) problem(`${orderId}: completed, but only ${active.join(', ') || 'nothing'} in effect`);
      } else if (outcome === 'compensated' || outcome === 'compensation_failed') {
        compensated++;
        if (active.length > 0) problem(`${orderId}: ${outcome}, but ${active.join(', ')} still in effect`);
        if (told201.has(orderId)) problem(`${orderId}: the client was told 201, but the order was ${outcome}`);
      } else if (outcome === 'none') {
        // Every step in effect and no record: a whole order whose record Redis lost (a restart
        // without persistence). Not half-undone, but its ID would now run again.
        if (active.length === 3) {
          recordsLost++;
          if (problems.length < 20) problems.push(`${orderId}: placed, but its saga record is gone`);
        } else {
          neverStarted++;
          if (active.length > 0) problem(`${orderId}: no saga record, but ${active.join(', ')} in effect`);
        }
      } else problem(`${orderId}: still unfinished after the settle wait (${active.join(', ') || 'no effects'})`);
    }
    const keys = await client.command<string[]>(['KEYS', '*']);
    let cardInRedis = false;
    for (const k of keys) {
      const dump = await client.command<string | null>(['DUMP', k]);
      if (dump !== null && (dump.includes(CARD) || dump.includes(DECLINED))) cardInRedis = true;
    }
    const line = `orders: ${completed} completed, ${compensated} compensated, ${halfUndone} half-undone, ${duplicatedEffects} duplicated effects, ${liveTakeovers} live sagas taken over`;
    return { completed, compensated, halfUndone, duplicatedEffects, liveTakeovers, kills, redisKills, takeovers, neverStarted, recordsLost, answers, cardInRedis, problems, line };
  } finally {
    await client?.close();
    for (const p of procs) p.child?.kill('SIGKILL');
    services?.kill('SIGKILL');
    await redis.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
