import { CircuitOpenError, TimeoutError, step, type WeftEvent } from '@weft/core';
import { Registry, register as globalRegistry } from 'prom-client';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { RECORDED_EVENT_TYPES, WeftCollector, createWeftMetrics } from './collector.js';
import { DEFAULT_BUCKETS, METRIC_DEFINITIONS } from './metric-names.js';
import { base, series } from './test-support/exposition.js';

const collectors: WeftCollector[] = [];
function collector(options: ConstructorParameters<typeof WeftCollector>[0]): WeftCollector {
  const c = new WeftCollector(options);
  collectors.push(c);
  return c;
}
afterEach(() => {
  for (const c of collectors.splice(0)) c.unregister();
});

/** Records events directly and returns the series they produce. */
async function recorded(events: readonly unknown[], options: Partial<ConstructorParameters<typeof WeftCollector>[0]> = {}) {
  const registry = new Registry();
  const c = collector({ registry, ...options });
  for (const e of events) c.record(e as WeftEvent);
  return series(registry);
}

/** Only the series of one metric family. */
function family(all: Record<string, number>, name: string): Record<string, number> {
  return Object.fromEntries(Object.entries(all).filter(([k]) => k === name || k.startsWith(`${name}{`) || k.startsWith(`${name}_count`)));
}

describe('options', () => {
  it('throws a TypeError naming `registry` when it is missing or not a registry', () => {
    expect(() => new WeftCollector({} as never)).toThrow(new TypeError("Expected `registry` to be a prom-client Registry or 'global', got undefined"));
    expect(() => new WeftCollector({ registry: 'default' as never })).toThrow(/`registry`/);
    expect(() => new WeftCollector(undefined as never)).toThrow(/`options`/);
  });

  it('throws a TypeError naming `buckets` for empty, unsorted, negative or non-finite buckets', () => {
    const registry = new Registry();
    for (const buckets of [[], [0.1, 0.05], [-1, 1], [0, 1], [1, Infinity], [1, 1], ['1']]) {
      expect(() => new WeftCollector({ registry, buckets: buckets as number[] })).toThrow(TypeError);
      expect(() => new WeftCollector({ registry, buckets: buckets as number[] })).toThrow(/`buckets`/);
    }
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('throws a TypeError naming `prefix`, `maxLabelValues`, `maxLabelLength`, `exemplars` and `source`', () => {
    const registry = new Registry();
    expect(() => new WeftCollector({ registry, prefix: 'my-app_' })).toThrow(/`prefix`/);
    expect(() => new WeftCollector({ registry, prefix: 3 as never })).toThrow(/`prefix`/);
    expect(() => new WeftCollector({ registry, maxLabelValues: 0 })).toThrow('Expected `maxLabelValues` to be an integer >= 1 and <= 100000, got 0');
    expect(() => new WeftCollector({ registry, maxLabelLength: 1.5 })).toThrow(/`maxLabelLength`/);
    expect(() => new WeftCollector({ registry, exemplars: 'yes' as never })).toThrow(/`exemplars`/);
    expect(() => new WeftCollector({ registry, source: {} as never })).toThrow(/`source`/);
  });

  it('throws a TypeError naming `registry` when another collector registered the names there, and registers nothing', () => {
    const registry = new Registry();
    collector({ registry });
    const before = registry.getMetricsAsArray().length;
    expect(() => new WeftCollector({ registry })).toThrow(/`registry`.*weft_/);
    expect(registry.getMetricsAsArray()).toHaveLength(before);
    // A prefix keeps the names apart.
    expect(() => collector({ registry, prefix: 'second_' })).not.toThrow();
  });

  it('never touches the global registry unless asked', async () => {
    const before = globalRegistry.getMetricsAsArray().length;
    const c = createWeftMetrics({ registry: new Registry() });
    collectors.push(c);
    await step('noop', () => 1).run(undefined);
    expect(globalRegistry.getMetricsAsArray()).toHaveLength(before);
  });

  it("registers in the global registry when given 'global'", async () => {
    const c = createWeftMetrics({ registry: 'global' });
    collectors.push(c);
    expect(c.registry).toBe(globalRegistry);
    await step('noop', () => 1).run(undefined, { workflow: 'global-flow' });
    expect(await series(globalRegistry)).toMatchObject({ 'weft_workflow_runs_total{workflow="global-flow",outcome="succeeded"}': 1 });
  });

  it('registers every metric of METRIC_DEFINITIONS, with the prefix', () => {
    const registry = new Registry();
    collector({ registry, prefix: 'shop_' });
    const names = registry.getMetricsAsArray().map((m) => m.name).sort();
    expect(names).toEqual(Object.values(METRIC_DEFINITIONS).map((d) => `shop_${d.name}`).sort());
  });

  it('uses the buckets it is given', async () => {
    const registry = new Registry();
    const c = collector({ registry, buckets: [0.5, 2] });
    c.record({ ...base(), type: 'step.finished', outcome: 'success', durationMs: 700, attempt: 1 });
    const all = await series(registry, { buckets: true });
    expect(family(all, 'weft_step_duration_seconds_bucket')).toEqual({
      'weft_step_duration_seconds_bucket{le="0.5",workflow="checkout",step="charge",outcome="success"}': 0,
      'weft_step_duration_seconds_bucket{le="2",workflow="checkout",step="charge",outcome="success"}': 1,
      'weft_step_duration_seconds_bucket{le="+Inf",workflow="checkout",step="charge",outcome="success"}': 1,
    });
  });

  it('default buckets run from 1 ms to 60 s', async () => {
    const registry = new Registry();
    const c = collector({ registry });
    c.record({ ...base(), type: 'step.finished', outcome: 'success', durationMs: 0.5, attempt: 1 });
    const les = Object.keys(family(await series(registry, { buckets: true }), 'weft_step_duration_seconds_bucket')).map((k) => /le="([^"]+)"/.exec(k)![1]);
    expect(les).toEqual([...DEFAULT_BUCKETS.map(String), '+Inf']);
    expect(les[0]).toBe('0.001');
    expect(les.at(-2)).toBe('60');
  });
});

describe('lifecycle', () => {
  it('records nothing before start() and after stop(), and resumes on start()', async () => {
    const registry = new Registry();
    const source = new Subject<WeftEvent>();
    const c = collector({ registry, source });
    const finished: WeftEvent = { ...base(), type: 'run.finished', outcome: 'success', durationMs: 1 };
    source.next(finished);
    c.start();
    c.start(); // idempotent: one subscription
    expect(c.running).toBe(true);
    source.next(finished);
    c.stop();
    expect(c.running).toBe(false);
    source.next(finished);
    c.start();
    source.next(finished);
    expect((await series(registry))['weft_workflow_runs_total{workflow="checkout",outcome="succeeded"}']).toBe(2);
  });

  it('unregister() removes its metrics so a new collector can register them', () => {
    const registry = new Registry();
    const c = new WeftCollector({ registry }).start();
    c.unregister();
    expect(c.running).toBe(false);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(() => collector({ registry })).not.toThrow();
  });
});

describe('record()', () => {
  it('counts runs by workflow and outcome, and failed runs by Weft error code', async () => {
    const all = await recorded([
      { ...base(), type: 'run.started' },
      { ...base(), type: 'run.finished', outcome: 'success', durationMs: 12 },
      { ...base(), type: 'run.finished', outcome: 'error', durationMs: 40, error: new TimeoutError(40) },
      { ...base(), type: 'run.finished', outcome: 'error', durationMs: 3, error: new Error('user 42 not found') },
    ]);
    expect(all).toEqual({
      'weft_workflow_runs_total{workflow="checkout",outcome="succeeded"}': 1,
      'weft_workflow_runs_total{workflow="checkout",outcome="failed"}': 2,
      'weft_workflow_run_duration_seconds_count{workflow="checkout",outcome="succeeded"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="checkout",outcome="failed"}': 2,
      'weft_workflow_errors_total{workflow="checkout",error="timeout"}': 1,
      'weft_workflow_errors_total{workflow="checkout",error="other"}': 1,
    });
  });

  it('observes durations in seconds', async () => {
    const registry = new Registry();
    const c = collector({ registry });
    c.record({ ...base(), type: 'run.finished', outcome: 'success', durationMs: 250 });
    c.record({ ...base(), type: 'run.finished', outcome: 'success', durationMs: 1500 });
    const all = await series(registry, { buckets: true, sums: true });
    expect(all['weft_workflow_run_duration_seconds_sum{workflow="checkout",outcome="succeeded"}']).toBe(1.75);
    expect(all['weft_workflow_run_duration_seconds_bucket{le="0.3",workflow="checkout",outcome="succeeded"}']).toBe(1);
    expect(all['weft_workflow_run_duration_seconds_bucket{le="1",workflow="checkout",outcome="succeeded"}']).toBe(1);
    expect(all['weft_workflow_run_duration_seconds_bucket{le="2.5",workflow="checkout",outcome="succeeded"}']).toBe(2);
  });

  it('records step durations and step errors by workflow, step and outcome', async () => {
    const all = await recorded([
      { ...base(), type: 'step.started', attempt: 1 },
      { ...base(), type: 'step.finished', outcome: 'error', durationMs: 5, attempt: 1, error: new CircuitOpenError('payments') },
      { ...base(), type: 'step.finished', outcome: 'success', durationMs: 5, attempt: 2 },
    ]);
    expect(family(all, 'weft_step_duration_seconds')).toEqual({
      'weft_step_duration_seconds_count{workflow="checkout",step="charge",outcome="error"}': 1,
      'weft_step_duration_seconds_count{workflow="checkout",step="charge",outcome="success"}': 1,
    });
    expect(family(all, 'weft_step_errors_total')).toEqual({ 'weft_step_errors_total{workflow="checkout",step="charge",error="circuit_open"}': 1 });
  });

  it('records every resilience event under its metric', async () => {
    const b = base();
    const all = await recorded([
      { ...b, type: 'retry.attempt', attempt: 1, maxAttempts: 3, final: false },
      { ...b, type: 'retry.attempt', attempt: 2, maxAttempts: 3, final: false },
      { ...b, type: 'retry.scheduled', attempt: 1, delayMs: 10, hinted: false, final: false },
      { ...b, type: 'retry.gave_up', attempts: 2, error: new Error('x'), reason: 'not_retryable', final: true },
      { ...b, type: 'retry.succeeded', attempts: 2 },
      { ...b, type: 'timeout.expired', timeoutMs: 100, mayStillBeRunning: true },
      { ...b, type: 'fallback.served', index: 2, served: 'from-cache', errors: [] },
      { ...b, type: 'fallback.exhausted', errors: [] },
      { ...b, type: 'circuit.state_changed', breaker: 'payments', from: 'closed', to: 'open' },
      { ...b, type: 'circuit.rejected', breaker: 'payments', state: 'open', retryAfterMs: 100 },
      { ...b, type: 'circuit.state_changed', breaker: 'payments', from: 'open', to: 'half-open' },
      { ...b, type: 'bulkhead.rejected', bulkhead: 'db', active: 4, queued: 10 },
      { ...b, type: 'bulkhead.queued', bulkhead: 'db', queued: 1 },
      { ...b, type: 'ratelimit.rejected', limiter: 'api', retryAfterMs: 50 },
      { ...b, type: 'ratelimit.waited', limiter: 'api', waitedMs: 5 },
      { ...b, type: 'ratelimit.store_error', limiter: 'api', reason: 'timeout', error: new Error('slow') },
      { ...b, type: 'hedge.started', attempt: 2, delayMs: 20, trigger: 'delay' },
      { ...b, type: 'hedge.won', attempt: 2, hedged: true },
      { ...b, type: 'hedge.won', attempt: 1, hedged: true },
      { ...b, type: 'chaos.injected', fault: 'latency', latencyMs: 30 },
      { ...b, type: 'route.chosen', route: 'cheap-model', reason: 'cost' },
    ]);
    expect(all).toEqual({
      'weft_retry_attempts_total{workflow="checkout",step="charge"}': 2,
      'weft_retries_total{workflow="checkout",step="charge"}': 1,
      'weft_retry_gave_up_total{workflow="checkout",step="charge",reason="not_retryable"}': 1,
      'weft_timeouts_total{workflow="checkout",step="charge"}': 1,
      'weft_fallbacks_total{workflow="checkout",step="charge",alternative="2"}': 1,
      'weft_fallback_exhausted_total{workflow="checkout",step="charge"}': 1,
      'weft_circuit_state{breaker="payments",state="closed"}': 0,
      'weft_circuit_state{breaker="payments",state="open"}': 0,
      'weft_circuit_state{breaker="payments",state="half-open"}': 1,
      'weft_circuit_state{breaker="payments",state="isolated"}': 0,
      'weft_circuit_transitions_total{breaker="payments",from="closed",to="open"}': 1,
      'weft_circuit_transitions_total{breaker="payments",from="open",to="half-open"}': 1,
      'weft_circuit_rejections_total{workflow="checkout",breaker="payments",state="open"}': 1,
      'weft_bulkhead_rejections_total{workflow="checkout",bulkhead="db"}': 1,
      'weft_ratelimit_rejections_total{workflow="checkout",limiter="api"}': 1,
      'weft_ratelimit_store_errors_total{limiter="api",reason="timeout"}': 1,
      'weft_hedges_started_total{workflow="checkout",step="charge",trigger="delay"}': 1,
      'weft_hedges_won_total{workflow="checkout",step="charge"}': 1,
      'weft_chaos_injections_total{workflow="checkout",step="charge",fault="latency"}': 1,
      'weft_routes_total{workflow="checkout",step="charge",route="cheap-model",reason="cost"}': 1,
    });
  });

  it('records cache, saga, cost and budget events', async () => {
    const b = base();
    const all = await recorded([
      { ...b, type: 'cache.request', cache: 'quotes', result: 'hit' },
      { ...b, type: 'cache.request', cache: 'quotes', result: 'hit' },
      { ...b, type: 'cache.request', cache: 'quotes', result: 'miss' },
      { ...b, type: 'cache.request', cache: 'quotes', result: 'stale' },
      { ...b, type: 'cache.request', cache: 'quotes', result: 'store_error', error: new Error('ECONNREFUSED') },
      { ...b, type: 'cache.set', cache: 'quotes', ok: true },
      { ...b, type: 'cache.set', cache: 'quotes', ok: false, reason: 'too_large', bytes: 2_000_000 },
      { ...b, type: 'cache.set', cache: 'quotes', ok: false, reason: 'store_error', error: new Error('x') },
      { ...b, type: 'cache.refresh', cache: 'quotes', ok: true },
      { ...b, type: 'saga.compensation', saga: 'order', sagaId: 's-1', compensatedStep: 'reserve', outcome: 'success' },
      { ...b, type: 'saga.compensation', saga: 'order', sagaId: 's-1', compensatedStep: 'charge', outcome: 'error', error: new Error('x') },
      { ...b, type: 'saga.finished', saga: 'order', sagaId: 's-1', outcome: 'compensated', recovered: false },
      { ...b, type: 'saga.finished', saga: 'order', sagaId: 's-2', outcome: 'completed', recovered: false },
      { ...b, type: 'saga.takeover', saga: 'order', sagaId: 's-3', direction: 'resume' },
      { ...b, type: 'stream.first_chunk', timeToFirstChunkMs: 120, attempt: 1 },
      { ...b, type: 'stream.finished', outcome: 'completed', chunks: 12, tokens: 30, durationMs: 900, timeToFirstChunkMs: 120, attempt: 1 },
      { ...b, type: 'stream.finished', outcome: 'failed_mid_stream', chunks: 3, durationMs: 300, attempt: 1, error: new Error('x') },
      { ...b, type: 'cost.recorded', amount: 0.25, model: 'gpt-4o', inputTokens: 1000, outputTokens: 200, currency: 'USD' },
      { ...b, type: 'cost.recorded', amount: 0.5, model: 'gpt-4o', inputTokens: 3000, currency: 'USD' },
      { ...b, type: 'cost.recorded', amount: 1, currency: 'EUR' },
      { ...b, type: 'budget.usage', budget: 'daily', scope: 'window', spent: 25, limit: 100, utilisation: 0.25, warnAt: 0.8 },
      { ...b, type: 'budget.warning', budget: 'daily', scope: 'window', spent: 80, limit: 100, utilisation: 0.8, warnAt: 0.8 },
      { ...b, type: 'budget.exceeded', budget: 'daily', scope: 'window', spent: 101, limit: 100, utilisation: 1.01, warnAt: 0.8 },
      { ...b, type: 'budget.usage', budget: 'daily', scope: 'run', spent: 1, limit: 5, utilisation: 0.2, warnAt: 0.8 },
      { ...b, type: 'budget.store_error', budget: 'daily', failOpen: true, operation: 'reserve', reason: 'timeout', error: new Error('x'), decision: 'open' },
      { ...b, type: 'budget.store_error', budget: 'daily', failOpen: false, operation: 'reserve', reason: 'error', error: new Error('x'), decision: 'allowance' },
    ]);
    expect(all).toEqual({
      'weft_cache_requests_total{workflow="checkout",cache="quotes",result="hit"}': 2,
      'weft_cache_requests_total{workflow="checkout",cache="quotes",result="miss"}': 1,
      'weft_cache_requests_total{workflow="checkout",cache="quotes",result="stale"}': 1,
      'weft_cache_requests_total{workflow="checkout",cache="quotes",result="store_error"}': 1,
      'weft_saga_compensations_total{workflow="checkout",saga="order",step="reserve",outcome="success"}': 1,
      'weft_saga_compensations_total{workflow="checkout",saga="order",step="charge",outcome="error"}': 1,
      'weft_sagas_total{workflow="checkout",saga="order",outcome="compensated"}': 1,
      'weft_sagas_total{workflow="checkout",saga="order",outcome="completed"}': 1,
      'weft_saga_takeovers_total{workflow="checkout",saga="order",direction="resume"}': 1,
      'weft_streams_total{workflow="checkout",step="charge",outcome="completed"}': 1,
      'weft_streams_total{workflow="checkout",step="charge",outcome="failed_mid_stream"}': 1,
      'weft_stream_chunks_count{workflow="checkout",step="charge"}': 2,
      'weft_stream_time_to_first_chunk_seconds_count{workflow="checkout",step="charge"}': 1,
      'weft_stream_tokens_count{workflow="checkout",step="charge"}': 1,
      'weft_cost_total{workflow="checkout",step="charge",model="gpt-4o",currency="USD"}': 0.75,
      'weft_cost_total{workflow="checkout",step="charge",model="none",currency="EUR"}': 1,
      'weft_tokens_total{workflow="checkout",step="charge",model="gpt-4o",direction="input"}': 4000,
      'weft_tokens_total{workflow="checkout",step="charge",model="gpt-4o",direction="output"}': 200,
      'weft_cache_set_failures_total{workflow="checkout",cache="quotes",reason="too_large"}': 1,
      'weft_cache_set_failures_total{workflow="checkout",cache="quotes",reason="store_error"}': 1,
      'weft_budget_utilisation_ratio{budget="daily",scope="window"}': 1.01,
      'weft_budget_utilisation_ratio{budget="daily",scope="run"}': 0.2,
      'weft_budget_exceeded_total{budget="daily",scope="window"}': 1,
      // One key (the budget has none), exhausted by the refusal; its burn is the spend after calls (80), not the refused call's projection.
      'weft_budget_keys{budget="daily",scope="window",state="active"}': 1,
      'weft_budget_keys{budget="daily",scope="window",state="warning"}': 0,
      'weft_budget_keys{budget="daily",scope="window",state="exhausted"}': 1,
      'weft_budget_spent_total{budget="daily",scope="window"}': 80,
      'weft_budget_store_errors_total{budget="daily",operation="reserve",reason="timeout"}': 1,
      'weft_budget_store_errors_total{budget="daily",operation="reserve",reason="error"}': 1,
      'weft_budget_degraded_calls_total{budget="daily",decision="open"}': 1,
      'weft_budget_degraded_calls_total{budget="daily",decision="allowance"}': 1,
    });
  });

  it('never throws, and counts an event it failed to record', async () => {
    const registry = new Registry();
    const c = collector({ registry });
    // A negative cost makes prom-client's counter throw.
    expect(() => c.record({ ...base(), type: 'cost.recorded', amount: -1, currency: 'USD' })).not.toThrow();
    // A malformed event (no fields at all).
    expect(() => c.record({ type: 'run.finished' } as WeftEvent)).not.toThrow();
    expect(() => c.record(null as never)).not.toThrow();
    const all = await series(registry);
    expect(family(all, 'weft_metrics_handler_errors_total')).toEqual({
      'weft_metrics_handler_errors_total{event="cost.recorded"}': 1,
      'weft_metrics_handler_errors_total{event="run.finished"}': 1,
      'weft_metrics_handler_errors_total{event="other"}': 1,
    });
  });

  it('ignores event types it does not know', async () => {
    const all = await recorded([{ ...base(), type: 'something.new', value: 1 }]);
    expect(all).toEqual({});
  });
});

describe('label guards', () => {
  it('records values beyond maxLabelValues as `other` and counts each replacement', async () => {
    const events = ['a', 'b', 'c', 'd', 'c', 'e'].map((workflow) => ({ ...base({ workflow }), type: 'run.finished', outcome: 'success', durationMs: 1 }));
    const all = await recorded(events, { maxLabelValues: 3 });
    expect(family(all, 'weft_workflow_runs_total')).toEqual({
      'weft_workflow_runs_total{workflow="a",outcome="succeeded"}': 1,
      'weft_workflow_runs_total{workflow="b",outcome="succeeded"}': 1,
      'weft_workflow_runs_total{workflow="c",outcome="succeeded"}': 2,
      'weft_workflow_runs_total{workflow="other",outcome="succeeded"}': 2,
    });
    expect(family(all, 'weft_metrics_label_overflow_total')).toEqual({ 'weft_metrics_label_overflow_total{label="workflow",reason="too_many_values"}': 2 });
  });

  it('truncates values longer than maxLabelLength and counts each truncation', async () => {
    const long = 'x'.repeat(40);
    const events = [1, 2].map(() => ({ ...base({ step: long }), type: 'timeout.expired', timeoutMs: 1, mayStillBeRunning: false }));
    const all = await recorded(events, { maxLabelLength: 10 });
    expect(family(all, 'weft_timeouts_total')).toEqual({ 'weft_timeouts_total{workflow="checkout",step="xxxxxxxxxx"}': 2 });
    expect(family(all, 'weft_metrics_label_overflow_total')).toEqual({ 'weft_metrics_label_overflow_total{label="step",reason="too_long"}': 2 });
  });

  it('records a missing label field as `unknown`', async () => {
    const all = await recorded([{ ...base(), type: 'budget.usage', budget: 'daily', spent: 1, limit: 2, utilisation: 0.5 }]);
    expect(all).toEqual({
      'weft_budget_utilisation_ratio{budget="daily",scope="unknown"}': 0.5,
      'weft_budget_keys{budget="daily",scope="unknown",state="active"}': 1,
      'weft_budget_keys{budget="daily",scope="unknown",state="warning"}': 0,
      'weft_budget_keys{budget="daily",scope="unknown",state="exhausted"}': 0,
      'weft_budget_spent_total{budget="daily",scope="unknown"}': 1,
    });
  });

  it('shares the distinct-value budget of a label across metrics', async () => {
    const b = base();
    const all = await recorded(
      [
        { ...b, step: 's1', type: 'timeout.expired', timeoutMs: 1, mayStillBeRunning: false },
        { ...b, step: 's2', type: 'retry.attempt', attempt: 1, maxAttempts: 1, final: true },
      ],
      { maxLabelValues: 1 },
    );
    expect(all['weft_retry_attempts_total{workflow="checkout",step="other"}']).toBe(1);
  });
});

describe('declare()', () => {
  it('creates every series the declared parts can produce at 0, so a fresh scrape shows them', async () => {
    const registry = new Registry();
    const c = collector({ registry });
    c.declare({ workflow: 'answer', retries: ['provider'], timeouts: ['provider'], fallbacks: [{ step: 'providers', alternatives: 2 }], breakers: ['provider'], hedges: ['provider'], caches: ['answers'], budgets: ['daily'], rateLimiters: ['per-key'], bulkheads: ['provider'], sagas: ['order'], streams: ['tokens'] });
    c.declare({ workflow: 'answer', breakers: ['provider'] }); // again: changes nothing
    const all = await series(registry);
    for (const outcome of ['succeeded', 'rejected', 'failed']) {
      expect(all[`weft_workflow_runs_total{workflow="answer",outcome="${outcome}"}`]).toBe(0);
      expect(all[`weft_workflow_run_duration_seconds_count{workflow="answer",outcome="${outcome}"}`]).toBe(0);
    }
    expect(all['weft_retry_gave_up_total{workflow="answer",step="provider",reason="exhausted"}']).toBe(0);
    expect(all['weft_timeouts_total{workflow="answer",step="provider"}']).toBe(0);
    expect(all['weft_fallbacks_total{workflow="answer",step="providers",alternative="2"}']).toBe(0);
    expect(all['weft_fallback_exhausted_total{workflow="answer",step="providers"}']).toBe(0);
    expect(all['weft_circuit_state{breaker="provider",state="closed"}']).toBe(1);
    expect(all['weft_circuit_rejections_total{workflow="answer",breaker="provider",state="open"}']).toBe(0);
    expect(all['weft_hedges_won_total{workflow="answer",step="provider"}']).toBe(0);
    expect(all['weft_cache_requests_total{workflow="answer",cache="answers",result="hit"}']).toBe(0);
    expect(all['weft_cache_set_failures_total{workflow="answer",cache="answers",reason="store_error"}']).toBe(0);
    expect(all['weft_budget_exceeded_total{budget="daily",scope="window"}']).toBe(0);
    expect(all['weft_budget_keys{budget="daily",scope="window",state="exhausted"}']).toBe(0);
    expect(all['weft_ratelimit_rejections_total{workflow="answer",limiter="per-key"}']).toBe(0);
    expect(all['weft_bulkhead_rejections_total{workflow="answer",bulkhead="provider"}']).toBe(0);
    expect(all['weft_sagas_total{workflow="answer",saga="order",outcome="compensation_failed"}']).toBe(0);
    expect(all['weft_streams_total{workflow="answer",step="tokens",outcome="failed_mid_stream"}']).toBe(0);
    // Values no declaration names are not invented.
    expect(Object.keys(all).filter((k) => k.includes('weft_budget_utilisation_ratio'))).toEqual([]);
  });

  it('keeps what runs already recorded when called after them', async () => {
    const registry = new Registry();
    const c = collector({ registry });
    c.record({ ...base({ workflow: 'answer' }), type: 'run.finished', outcome: 'success', durationMs: 120, traceId: undefined });
    c.declare({ workflow: 'answer' });
    const all = await series(registry);
    expect(all['weft_workflow_runs_total{workflow="answer",outcome="succeeded"}']).toBe(1);
    expect(all['weft_workflow_run_duration_seconds_count{workflow="answer",outcome="succeeded"}']).toBe(1);
    expect(all['weft_workflow_run_duration_seconds_count{workflow="answer",outcome="failed"}']).toBe(0);
  });

  it('keeps a breaker state an event already reported', async () => {
    const registry = new Registry();
    const c = collector({ registry });
    c.record({ ...base(), type: 'circuit.state_changed', breaker: 'provider', from: 'closed', to: 'open' });
    c.declare({ workflow: 'answer', breakers: ['provider'] });
    const all = await series(registry);
    expect(all['weft_circuit_state{breaker="provider",state="open"}']).toBe(1);
    expect(all['weft_circuit_state{breaker="provider",state="closed"}']).toBe(0);
  });

  it('throws a TypeError naming `workflow` without one', async () => {
    const c = collector({ registry: new Registry() });
    expect(() => c.declare({ workflow: '' })).toThrow(/`workflow`/);
  });
});

describe('keyed budgets', () => {
  it('count keys over the warning line and exhausted, read the highest utilisation among the others, and forget idle keys', async () => {
    const registry = new Registry();
    const c = collector({ registry, budgetKeyIdleMs: 60_000 });
    const report = (type: string, partition: string, spent: number, time: number) =>
      c.record({ ...base(), time, type, budget: 'daily', scope: 'window', spent, limit: 10, utilisation: spent / 10, warnAt: 0.8, partition } as WeftEvent);
    report('budget.usage', 'k1', 3, 0);
    report('budget.usage', 'k2', 9, 1_000); // warning
    report('budget.exceeded', 'k3', 12, 2_000); // refused: exhausted
    let all = await series(registry);
    expect(all['weft_budget_keys{budget="daily",scope="window",state="active"}']).toBe(3);
    expect(all['weft_budget_keys{budget="daily",scope="window",state="warning"}']).toBe(1);
    expect(all['weft_budget_keys{budget="daily",scope="window",state="exhausted"}']).toBe(1);
    // The exhausted key does not hide the others' trend: predicted exhaustion still works for them.
    expect(all['weft_budget_utilisation_ratio{budget="daily",scope="window"}']).toBe(0.9);
    // Burn: what calls spent (3 + 9), not the refused call's projection.
    expect(all['weft_budget_spent_total{budget="daily",scope="window"}']).toBe(12);
    report('budget.usage', 'k2', 4, 3_000); // k2's window drained
    all = await series(registry);
    expect(all['weft_budget_keys{budget="daily",scope="window",state="warning"}']).toBe(0);
    expect(all['weft_budget_utilisation_ratio{budget="daily",scope="window"}']).toBe(0.4);
    expect(all['weft_budget_spent_total{budget="daily",scope="window"}']).toBe(12);
    // A minute later only the key that reported again counts; the exhausted one is forgotten.
    report('budget.usage', 'k1', 5, 62_500);
    all = await series(registry);
    expect(all['weft_budget_keys{budget="daily",scope="window",state="active"}']).toBe(2);
    expect(all['weft_budget_keys{budget="daily",scope="window",state="exhausted"}']).toBe(0);
    expect(all['weft_budget_utilisation_ratio{budget="daily",scope="window"}']).toBe(0.5);
    expect(all['weft_budget_spent_total{budget="daily",scope="window"}']).toBe(14);
  });


  it('report the highest utilisation among keys below the limit, with no key label', async () => {
    const { budget, step, recordCost, LocalBudgetStore } = await import('@weft/core');
    const registry = new Registry();
    collector({ registry }).start();
    const spend = budget(
      step('spend', (x: { key: string; amount: number }, ctx) => {
        recordCost(ctx, { amount: x.amount });
        return x.amount;
      }),
      { name: 'daily', key: (x) => x.key, window: { limit: 10, windowMs: 60_000 }, store: new LocalBudgetStore() },
    );
    await spend.run({ key: 'tenant-a', amount: 7 });
    await spend.run({ key: 'tenant-b', amount: 2 });
    const text = await registry.metrics();
    expect(text).toContain('weft_budget_utilisation_ratio{budget="daily",scope="window"} 0.7');
    expect(text).not.toContain('tenant-');
  });
});

describe('the default source', () => {
  it('subscribes to exactly the event types handle() records', async () => {
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(new URL('./collector.ts', import.meta.url), 'utf8');
    const handle = source.slice(source.indexOf('  private handle(e: WeftEvent): void {'));
    const cases = [...handle.slice(0, handle.indexOf('      default:')).matchAll(/case '([a-z_.]+)':/g)].map((m) => m[1]);
    expect(cases.length).toBeGreaterThan(20);
    expect([...RECORDED_EVENT_TYPES].sort()).toEqual([...cases].sort());
  });

  it('records runs through the real event stream while skipping the types it does not record', async () => {
    const registry = new Registry();
    collector({ registry }).start();
    await step('recorded', () => 1).run(undefined, { workflow: 'subscribed' });
    expect(await series(registry)).toMatchObject({ 'weft_workflow_runs_total{workflow="subscribed",outcome="succeeded"}': 1 });
  });
});
