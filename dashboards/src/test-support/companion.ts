/**
 * An extra scrape target for the end-to-end test, for the one thing the real apps (the gateway and
 * the orders service) cannot show in a two-minute run without a broken Redis: shared stores that
 * fail. It runs a cache, a budget and a rate limiter over stores that always throw, through the real
 * collector, so the Store errors panel is proven against real series too. Bulkheads, hedges,
 * timeouts, exhausted fallbacks and sagas come from the real apps. Every panel query is also run
 * against the real apps alone, and the test reports the counts and what only this target feeds.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimiter, step, type BudgetStore, type CacheStore, type RateLimitStore } from '@weft/core';
import { WeftCollector } from '@weft/prometheus';
import { Registry } from 'prom-client';

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

/** Starts the companion's `/metrics` server and builds its store-backed steps. */
export async function startCompanion(): Promise<Companion> {
  const registry = new Registry();
  const collector = new WeftCollector({ registry }).start();
  const server: Server = createServer((_req, res) => {
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${String(error)}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const workflow = { workflow: 'companion' };
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
