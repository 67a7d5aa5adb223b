import { retry, step } from '@weft/core';
import { Registry, type OpenMetricsContentType, type RegistryContentType } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordSpans } from '@weft/testing';
import { WeftCollector, createWeftMetrics } from './collector.js';
import { parseExposition } from './test-support/exposition.js';

let tracing: ReturnType<typeof recordSpans>;
beforeAll(() => {
  tracing = recordSpans();
});
afterAll(() => tracing.stop());

const collectors: WeftCollector[] = [];
afterEach(() => {
  for (const c of collectors.splice(0)) c.unregister();
  tracing.exporter.reset();
});

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

let calls = 0;
const charge = step('charge', () => {
  if (++calls % 2 === 1) throw new Error('declined');
  return 'ok';
});
const checkout = retry(charge, { retries: 1, minDelay: 0, maxDelay: 0, jitter: 'none' });

describe('exemplars', () => {
  it('attach the trace ID to run and step duration buckets in the OpenMetrics format', async () => {
    const registry = openMetricsRegistry();
    const collector = createWeftMetrics({ registry });
    collectors.push(collector);
    expect(collector.exemplars).toBe(true);
    calls = 0;
    await checkout.run(undefined, { workflow: 'checkout' });

    const traceIds = new Set(tracing.spans().map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    const [traceId] = traceIds;

    const text = await registry.metrics();
    const withExemplars = parseExposition(text).filter((s) => s.exemplar);
    const runBuckets = withExemplars.filter((s) => s.name === 'weft_workflow_run_duration_seconds_bucket');
    const stepBuckets = withExemplars.filter((s) => s.name === 'weft_step_duration_seconds_bucket');
    // One observation each: the exemplar sits on the bucket the value fell in.
    expect(runBuckets).toHaveLength(1);
    expect(runBuckets[0]!.exemplar!.labels).toEqual({ trace_id: traceId });
    expect(runBuckets[0]!.labels).toMatchObject({ workflow: 'checkout', outcome: 'succeeded' });
    expect(runBuckets[0]!.exemplar!.value).toBeGreaterThan(0);
    expect(Number(runBuckets[0]!.labels.le)).toBeGreaterThanOrEqual(runBuckets[0]!.exemplar!.value);
    // Two step calls (one failed, one succeeded), each with the run's trace ID.
    expect(stepBuckets.map((s) => s.labels.outcome).sort()).toEqual(['error', 'success']);
    for (const s of stepBuckets) expect(s.exemplar!.labels).toEqual({ trace_id: traceId });

    // Counters render with `_total` in OpenMetrics too, and the exposition ends with # EOF.
    expect(text).toContain('weft_workflow_runs_total{workflow="checkout",outcome="succeeded"} 1\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('are off for a Prometheus-format registry, and when exemplars: false', async () => {
    const plain = new Registry();
    const off = openMetricsRegistry();
    const a = createWeftMetrics({ registry: plain });
    const b = createWeftMetrics({ registry: off, exemplars: false });
    collectors.push(a, b);
    expect(a.exemplars).toBe(false);
    calls = 1;
    await checkout.run(undefined, { workflow: 'checkout' });
    for (const r of [plain, off] as Registry<RegistryContentType>[]) {
      const samples = parseExposition(await r.metrics());
      expect(samples.some((s) => s.exemplar)).toBe(false);
      expect(samples.find((s) => s.key === 'weft_workflow_run_duration_seconds_count{workflow="checkout",outcome="succeeded"}')?.value).toBe(1);
    }
  });

  it('are skipped, with the observation kept, when the run is not traced', async () => {
    const registry = openMetricsRegistry();
    const collector = new WeftCollector({ registry });
    collectors.push(collector);
    collector.record({ workflow: 'w', step: 's', primitive: 'step', correlationId: 'c', runId: 'r', time: 0, type: 'run.finished', outcome: 'success', durationMs: 3 });
    const samples = parseExposition(await registry.metrics());
    expect(samples.some((s) => s.exemplar)).toBe(false);
    expect(samples.find((s) => s.key === 'weft_workflow_run_duration_seconds_count{workflow="w",outcome="succeeded"}')?.value).toBe(1);
  });
});
