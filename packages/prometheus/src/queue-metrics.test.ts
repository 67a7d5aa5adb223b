import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { watchQueues, type WatchedQueue } from './queue-metrics.js';

function fakeQueue(name: string) {
  const listeners = new Set<Parameters<WatchedQueue['onJob']>[0]>();
  let counts: Record<string, number> = { waiting: 3, active: 1, failed: 2 };
  let broken = false;
  const queue: WatchedQueue = {
    name,
    counts: () => (broken ? Promise.reject(new Error('redis down')) : Promise.resolve(counts)),
    onJob: (l) => (listeners.add(l), () => void listeners.delete(l)),
  };
  return {
    queue,
    emit: (e: Parameters<Parameters<WatchedQueue['onJob']>[0]>[0]) => listeners.forEach((l) => l(e)),
    set: (c: Record<string, number>) => void (counts = c),
    breakIt: () => void (broken = true),
    listeners,
  };
}

async function values(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await registry.getMetricsAsJSON()) {
    for (const v of m.values) {
      const labels = Object.entries(v.labels).map(([k, x]) => `${k}="${String(x)}"`).join(',');
      out[`${(v as { metricName?: string }).metricName ?? m.name}{${labels}}`] = v.value;
    }
  }
  return out;
}

describe('watchQueues', () => {
  it('reports counts at scrape, job outcomes, stalls and durations, with every series present from the start', async () => {
    const registry = new Registry();
    const q = fakeQueue('place_order');
    const stop = watchQueues([q.queue], { registry });
    let v = await values(registry);
    expect(v['weft_queue_jobs{queue="place_order",state="waiting"}']).toBe(3);
    expect(v['weft_queue_jobs{queue="place_order",state="delayed"}']).toBe(0);
    expect(v['weft_queue_jobs_total{queue="place_order",outcome="failed"}']).toBe(0);
    expect(v['weft_queue_stalled_total{queue="place_order"}']).toBe(0);
    q.emit({ type: 'completed', durationMs: 120 });
    q.emit({ type: 'retried', durationMs: 10 });
    q.emit({ type: 'stalled' });
    q.set({ waiting: 0, active: 0 });
    v = await values(registry);
    expect(v['weft_queue_jobs{queue="place_order",state="waiting"}']).toBe(0);
    expect(v['weft_queue_jobs_total{queue="place_order",outcome="completed"}']).toBe(1);
    expect(v['weft_queue_jobs_total{queue="place_order",outcome="retried"}']).toBe(1);
    expect(v['weft_queue_stalled_total{queue="place_order"}']).toBe(1);
    expect(v['weft_queue_job_duration_seconds_count{outcome="completed",queue="place_order"}'] ?? v['weft_queue_job_duration_seconds_count{queue="place_order",outcome="completed"}']).toBe(1);
    stop();
    expect(q.listeners.size).toBe(0);
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('keeps the last counts and counts the failure when the queue cannot be read', async () => {
    const registry = new Registry();
    const q = fakeQueue('jobs');
    watchQueues([q.queue], { registry });
    await values(registry);
    q.breakIt();
    const v = await values(registry);
    expect(v['weft_queue_jobs{queue="jobs",state="waiting"}']).toBe(3);
    expect(v['weft_queue_scrape_errors_total{queue="jobs"}']).toBe(1);
  });

  it('rejects bad arguments with TypeErrors naming them', () => {
    expect(() => watchQueues([{}] as never)).toThrow(/`queues`/);
    expect(() => watchQueues([], { buckets: [] })).toThrow(/`buckets`/);
    expect(() => watchQueues([], { registy: 1 } as never)).toThrow(/`registy`/);
  });
});
