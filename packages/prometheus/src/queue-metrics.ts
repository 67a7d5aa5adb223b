import { Counter, Gauge, Histogram, register as globalRegistry } from 'prom-client';
import { fail, knownOptions, optionsObject } from '@weft/core/options';
import type { AnyRegistry } from './collector.js';

/**
 * A job queue as {@link watchQueues} reads it: `Durable` from `@weft/bullmq` is one. Structural,
 * so this package does not depend on BullMQ.
 */
export interface WatchedQueue {
  /** The queue's name, from code: the `queue` label. */
  readonly name: string;
  /** Jobs by state, read at every scrape. */
  counts(): Promise<Readonly<Partial<Record<QueueState, number>>>>;
  /** Jobs finished by this process's workers; returns the unsubscribe function. */
  onJob(listener: (event: { readonly type: 'completed' | 'settled' | 'retried' | 'failed' | 'stalled'; readonly durationMs?: number }) => void): () => void;
}

/** The queue metrics' names, for dashboards and alerts. */
export const QUEUE_METRICS = {
  jobs: 'weft_queue_jobs',
  jobsTotal: 'weft_queue_jobs_total',
  stalled: 'weft_queue_stalled_total',
  jobDuration: 'weft_queue_job_duration_seconds',
  scrapeErrors: 'weft_queue_scrape_errors_total',
} as const;

/** The states the `weft_queue_jobs` gauge reports, one series each, 0 included. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
/** A value of the `state` label. */
export type QueueState = (typeof QUEUE_STATES)[number];

/** Options for {@link watchQueues}. */
export interface WatchQueuesOptions {
  /** Where the metrics are registered. @default prom-client's global registry */
  readonly registry?: AnyRegistry;
  /** Histogram buckets of job durations, in seconds. @default [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] */
  readonly buckets?: readonly number[];
}

type QueueJobEvent = Parameters<Parameters<WatchedQueue['onJob']>[0]>[0];

const DEFAULT_JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const OUTCOMES = ['completed', 'settled', 'retried', 'failed'] as const;

/**
 * Queue metrics for Prometheus:
 *
 * - `weft_queue_jobs{queue,state}`: jobs waiting, active, delayed, prioritized, failed (the
 *   dead-letter queue) and completed (kept), read from the queue at scrape time;
 * - `weft_queue_jobs_total{queue,outcome}`: attempts finished by this process's workers:
 *   `completed`, `settled` (the workflow's own refusal, not retried), `retried`, `failed` (for good);
 * - `weft_queue_stalled_total{queue}`: jobs whose worker died or stalled, taken back by a stalled check;
 * - `weft_queue_job_duration_seconds{queue,outcome}`: attempt durations;
 * - `weft_queue_scrape_errors_total{queue}`: scrapes that could not read the counts (the gauges keep
 *   their last values).
 *
 * Every series exists from the start, at 0, so a panel shows 0 rather than "No data".
 *
 * @example
 * ```ts
 * const placeOrder = durable(orderSaga, { connection: process.env.REDIS_URL! });
 * const stop = watchQueues([placeOrder], { registry });
 * ```
 */
export function watchQueues(queues: readonly WatchedQueue[], options?: WatchQueuesOptions): () => void {
  const o = optionsObject('options', options);
  knownOptions('watchQueues', o, ['registry', 'buckets']);
  const list: unknown = queues;
  if (!Array.isArray(list) || list.some((q: Partial<WatchedQueue> | undefined) => typeof q?.name !== 'string' || typeof q.counts !== 'function' || typeof q.onJob !== 'function')) {
    fail('queues', 'an array of queues with name, counts() and onJob()', queues);
  }
  const buckets: unknown = o.buckets ?? DEFAULT_JOB_BUCKETS;
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b) => typeof b !== 'number' || !(b > 0))) fail('buckets', 'a non-empty array of positive numbers', buckets);
  const registry = (o.registry as AnyRegistry | undefined) ?? globalRegistry;
  const byName = new Map(queues.map((q) => [q.name, q]));
  const registers = [registry];
  const scrapeErrors = reuse(registry, 'weft_queue_scrape_errors_total', () => new Counter({ name: 'weft_queue_scrape_errors_total', help: 'Scrapes that could not read a queue\u2019s counts; the gauges keep their last values.', labelNames: ['queue'], registers }));
  const last = new Map<string, Partial<Record<QueueState, number>>>();
  // Registered with the registry, which reads it at every scrape.
  void new Gauge({
    name: 'weft_queue_jobs',
    help: 'Jobs in a queue by state: waiting, active, delayed, prioritized, failed (the dead-letter queue), completed (kept).',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      await Promise.all(
        [...byName.values()].map(async (q) => {
          try {
            last.set(q.name, await q.counts());
          } catch {
            scrapeErrors.labels(q.name).inc();
          }
          const counts = last.get(q.name) ?? {};
          for (const state of QUEUE_STATES) this.labels(q.name, state).set(counts[state] ?? 0);
        }),
      );
    },
  });
  const finished = new Counter({ name: 'weft_queue_jobs_total', help: 'Job attempts finished by this process\u2019s workers: completed, settled (the workflow\u2019s own refusal), retried, failed (for good).', labelNames: ['queue', 'outcome'], registers });
  const stalled = new Counter({ name: 'weft_queue_stalled_total', help: 'Jobs taken back from a worker that died or stalled.', labelNames: ['queue'], registers });
  const duration = new Histogram({ name: 'weft_queue_job_duration_seconds', help: 'Duration of job attempts, in seconds.', labelNames: ['queue', 'outcome'], buckets: [...(buckets as number[])], registers });
  const unsubscribe: Array<() => void> = [];
  for (const q of byName.values()) {
    for (const outcome of OUTCOMES) {
      finished.labels(q.name, outcome).inc(0);
      duration.labels(q.name, outcome);
    }
    stalled.labels(q.name).inc(0);
    scrapeErrors.labels(q.name).inc(0);
    unsubscribe.push(
      q.onJob((e: QueueJobEvent) => {
        if (e.type === 'stalled') return stalled.labels(q.name).inc();
        finished.labels(q.name, e.type).inc();
        if (e.durationMs !== undefined) duration.labels(q.name, e.type).observe(e.durationMs / 1_000);
      }),
    );
  }
  return () => {
    for (const u of unsubscribe) u();
    for (const name of Object.values(QUEUE_METRICS)) registry.removeSingleMetric(name);
  };
}

function reuse<T>(registry: AnyRegistry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
