/**
 * A second scrape target for the end-to-end test: a tiny service that runs the Weft primitives the
 * gateway does not use (bulkhead, hedge, saga, a plain timeout, a fallback with no alternative left,
 * failing cache, budget and rate-limit stores) through the real collector, so the panels that show
 * them are proven against real series too. Every panel query is also run against the gateway alone,
 * and the test reports both counts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Bulkhead, RateLimiter, saga, step, type BudgetStore, type CacheStore, type RateLimitStore } from '@weft/core';
import { WeftCollector } from '@weft/prometheus';
import { Registry } from 'prom-client';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const broken = (): never => {
  throw new Error('store unreachable');
};

/** A running companion. */
export interface Companion {
  /** `127.0.0.1:<port>` for the scrape config. */
  readonly target: string;
  /** Runs one round of every scenario; never throws. */
  round(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the companion's `/metrics` server and builds its workflows. */
export async function startCompanion(): Promise<Companion> {
  const registry = new Registry();
  const collector = new WeftCollector({ registry }).start();
  const server: Server = createServer((_req, res) => {
    void registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const workflow = { workflow: 'companion' };
  const crowded = step('crowded', () => sleep(30)).bulkhead(new Bulkhead({ maxConcurrent: 1, maxQueue: 0, name: 'companion-pool' }));
  let calls = 0;
  const hedged = step('hedged', () => sleep(calls++ % 2 === 0 ? 40 : 1)).hedge({ delayMs: 5 });
  const sleepy = step('sleepy', () => sleep(40)).timeout(5);
  const doomed = step('doomed', (): string => {
    throw new Error('primary down');
  }).fallback(
    step('also-doomed', (): string => {
      throw new Error('alternative down');
    }),
  );
  const order = (undoFails: boolean) =>
    saga(
      [
        { step: step('reserve', (n: number) => n), compensate: () => (undoFails ? broken() : undefined) },
        {
          step: step('charge', (): number => {
            throw new Error('card declined');
          }),
        },
      ],
      { name: 'companion-order' },
    );
  const cacheStore: CacheStore = { get: broken, set: broken, delete: broken };
  const cached = step('lookup', (n: number) => n).cache({ namespace: 'companion-cache', store: cacheStore });
  const budgetStore: BudgetStore = { tryCharge: broken, charge: broken, spent: broken };
  const budgeted = step('spend', (n: number) => n).budget({ name: 'companion-budget', window: { limit: 1, windowMs: 60_000 }, store: budgetStore, failOpen: true, estimate: 0.01 });
  const limitStore: RateLimitStore = { take: broken };
  const limited = step('limited', (n: number) => n).rateLimit(new RateLimiter({ key: 'companion-limiter', rate: 100, store: limitStore }));

  const quietly = (p: Promise<unknown>) => p.then(
    () => undefined,
    () => undefined,
  );
  return {
    target: `127.0.0.1:${port}`,
    round: async () => {
      await Promise.all([
        ...[1, 2, 3].map(() => quietly(crowded.run(undefined, workflow))),
        quietly(hedged.run(undefined, workflow)),
        quietly(sleepy.run(undefined, workflow)),
        quietly(doomed.run(undefined, workflow)),
        quietly(order(false).run(1, workflow)),
        quietly(order(true).run(1, workflow)),
        quietly(cached.run(1, workflow)),
        quietly(budgeted.run(1, workflow)),
        quietly(limited.run(1, workflow)),
      ]);
    },
    close: async () => {
      collector.unregister();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
