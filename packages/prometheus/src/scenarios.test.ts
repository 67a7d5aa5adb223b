/**
 * Runs real workflows built from core primitives, with injected faults, and asserts the exact series
 * the registry exposes afterwards. Histogram `_bucket` and `_sum` lines depend on timing and are left
 * out (see collector.test.ts for those); every other series, zero or not, is compared.
 *
 * One scenario emits synthetic events through the real event stream inside a real run, for results
 * that are slow to provoke for real (a stale cache entry); the rest use the real primitives.
 */
import { budget, bulkhead, cache, chaos, circuitBreaker, fallback, hedge, rateLimit, recordCost, retry, route, saga, step, timeout, type RunContext } from '@weft/core';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWeftMetrics, type WeftCollector } from './collector.js';
import { emitInRun, series } from './test-support/exposition.js';

let registry: Registry;
let collector: WeftCollector;
beforeEach(() => {
  registry = new Registry();
  collector = createWeftMetrics({ registry });
});
afterEach(() => collector.unregister());

/** A fresh error message every time, as real failures have. */
const boom = () => new Error(`upstream said no to request ${Math.random()}`);

/** Resolves after `ms`, or rejects with the run's abort reason. */
function sleep(ms: number, ctx: RunContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
}

const settle = <T>(p: Promise<T>) => p.then(() => 'ok', (e: unknown) => e);

describe('metrics after real runs', () => {
  it('retry recovering from two faults: three attempts, two retries, two failed step calls', async () => {
    let calls = 0;
    const charge = step('charge', () => {
      if (++calls <= 2) throw boom();
      return 'charged';
    });
    const flow = retry(timeout(charge, 1_000), { retries: 3, minDelay: 1, maxDelay: 1, jitter: 'none' });
    await flow.run(undefined, { workflow: 'checkout', correlationId: 'req-1' });

    expect(await series(registry)).toEqual({
      'weft_workflow_runs_total{workflow="checkout",outcome="succeeded"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="checkout",outcome="succeeded"}': 1,
      'weft_step_duration_seconds_count{workflow="checkout",step="charge",outcome="error"}': 2,
      'weft_step_duration_seconds_count{workflow="checkout",step="charge",outcome="success"}': 1,
      'weft_step_errors_total{workflow="checkout",step="charge",error="other"}': 2,
      'weft_retry_attempts_total{workflow="checkout",step="charge"}': 3,
      'weft_retries_total{workflow="checkout",step="charge"}': 2,
    });
  });

  it('timeouts exhausting the retries, then the fallback serving', async () => {
    const quote = step('quote', async (_: number, ctx) => {
      await sleep(5_000, ctx);
      return 1;
    });
    const flow = fallback(retry(timeout(quote, 10), { retries: 1, minDelay: 1, maxDelay: 1, jitter: 'none' }), () => 0);
    expect(await flow.run(1, { workflow: 'pricing' })).toBe(0);

    expect(await series(registry)).toEqual({
      'weft_workflow_runs_total{workflow="pricing",outcome="succeeded"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="pricing",outcome="succeeded"}': 1,
      'weft_step_duration_seconds_count{workflow="pricing",step="quote",outcome="error"}': 2,
      'weft_step_errors_total{workflow="pricing",step="quote",error="timeout"}': 2,
      'weft_timeouts_total{workflow="pricing",step="quote"}': 2,
      'weft_retry_attempts_total{workflow="pricing",step="quote"}': 2,
      'weft_retries_total{workflow="pricing",step="quote"}': 1,
      'weft_retry_gave_up_total{workflow="pricing",step="quote",reason="exhausted"}': 1,
      'weft_fallbacks_total{workflow="pricing",step="quote",alternative="1"}': 1,
    });
  });

  it('a circuit breaker opening after two failures and rejecting the third call', async () => {
    const pay = step('pay', () => {
      throw boom();
    });
    const flow = circuitBreaker(pay, { name: 'payments', threshold: 2, openMs: 60_000 });
    for (let i = 0; i < 3; i++) await settle(flow.run(undefined, { workflow: 'checkout' }));

    expect(await series(registry)).toEqual({
      'weft_workflow_runs_total{workflow="checkout",outcome="failed"}': 3,
      'weft_workflow_run_duration_seconds_count{workflow="checkout",outcome="failed"}': 3,
      'weft_workflow_errors_total{workflow="checkout",error="other"}': 2,
      'weft_workflow_errors_total{workflow="checkout",error="circuit_open"}': 1,
      'weft_step_duration_seconds_count{workflow="checkout",step="pay",outcome="error"}': 2,
      'weft_step_errors_total{workflow="checkout",step="pay",error="other"}': 2,
      'weft_circuit_transitions_total{breaker="payments",from="closed",to="open"}': 1,
      'weft_circuit_state{breaker="payments",state="closed"}': 0,
      'weft_circuit_state{breaker="payments",state="open"}': 1,
      'weft_circuit_state{breaker="payments",state="half-open"}': 0,
      'weft_circuit_state{breaker="payments",state="isolated"}': 0,
      'weft_circuit_rejections_total{workflow="checkout",breaker="payments",state="open"}': 1,
    });
  });

  it('a full bulkhead and an empty rate limiter rejecting calls', async () => {
    const slow = step('query', async (_: number, ctx) => {
      await sleep(20, ctx);
      return 1;
    });
    const db = bulkhead(slow, { name: 'db', maxConcurrent: 1, maxQueue: 0 });
    const results = await Promise.all([settle(db.run(1, { workflow: 'report' })), settle(db.run(2, { workflow: 'report' }))]);
    expect(results[0]).toBe('ok');

    const api = rateLimit(step('call', () => 1), { key: 'api', rate: 1, per: 60_000, burst: 1, mode: 'reject' });
    await settle(api.run(undefined, { workflow: 'sync' }));
    await settle(api.run(undefined, { workflow: 'sync' }));

    expect(await series(registry)).toEqual({
      'weft_workflow_runs_total{workflow="report",outcome="succeeded"}': 1,
      'weft_workflow_runs_total{workflow="report",outcome="failed"}': 1,
      'weft_workflow_runs_total{workflow="sync",outcome="succeeded"}': 1,
      'weft_workflow_runs_total{workflow="sync",outcome="rejected"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="report",outcome="succeeded"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="report",outcome="failed"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="sync",outcome="succeeded"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="sync",outcome="rejected"}': 1,
      'weft_workflow_errors_total{workflow="report",error="bulkhead_rejected"}': 1,
      'weft_workflow_errors_total{workflow="sync",error="rate_limited"}': 1,
      'weft_step_duration_seconds_count{workflow="report",step="query",outcome="success"}': 1,
      'weft_step_duration_seconds_count{workflow="sync",step="call",outcome="success"}': 1,
      'weft_bulkhead_rejections_total{workflow="report",bulkhead="db"}': 1,
      'weft_ratelimit_rejections_total{workflow="sync",limiter="api"}': 1,
    });
  });

  it('a hedge winning over a slow first attempt', async () => {
    let calls = 0;
    const lookup = step('lookup', async (_: number, ctx) => {
      await sleep(++calls === 1 ? 1_000 : 1, ctx);
      return calls;
    });
    await hedge(lookup, { delayMs: 5 }).run(1, { workflow: 'search' });

    const all = await series(registry);
    expect(all).toMatchObject({
      'weft_workflow_runs_total{workflow="search",outcome="succeeded"}': 1,
      'weft_hedges_started_total{workflow="search",step="lookup",trigger="delay"}': 1,
      'weft_hedges_won_total{workflow="search",step="lookup"}': 1,
      'weft_step_duration_seconds_count{workflow="search",step="lookup",outcome="success"}': 1,
    });
    // The losing attempt is aborted; it may report its step.finished now or a tick later.
    const stepErrors = Object.keys(all).filter((k) => k.startsWith('weft_step_errors_total'));
    expect(stepErrors.every((k) => k.startsWith('weft_step_errors_total{workflow="search",step="lookup",error='))).toBe(true);
  });

  it('a retry inside a losing hedged attempt counts as hedge_lost, and one whose caller aborted as aborted, never as a give-up', async () => {
    let calls = 0;
    const lookup = step('lookup', async (_: number, ctx) => {
      await sleep(++calls === 1 ? 1_000 : 1, ctx);
      return calls;
    }).retry({ retries: 2, minDelay: 1 });
    await hedge(lookup, { delayMs: 5 }).run(1, { workflow: 'search' });
    const controller = new AbortController();
    const slow = step('slow', async (_: number, ctx) => sleep(1_000, ctx)).retry({ retries: 2, minDelay: 1 });
    const aborted = settle(slow.run(1, { workflow: 'browse', signal: controller.signal }));
    controller.abort();
    await aborted;
    // The loser reports when its abort lands: wait for it, bounded.
    for (let i = 0; i < 100 && (await series(registry))['weft_retry_gave_up_total{workflow="search",step="lookup",reason="hedge_lost"}'] !== 1; i++) await new Promise((r) => setTimeout(r, 1));
    const all = await series(registry);
    expect(all['weft_retry_gave_up_total{workflow="search",step="lookup",reason="hedge_lost"}']).toBe(1);
    expect(all['weft_retry_gave_up_total{workflow="browse",step="slow",reason="aborted"}']).toBe(1);
    expect(Object.keys(all).filter((k) => k.startsWith('weft_retry_gave_up_total') && /reason="(exhausted|not_retryable|deadline)"/.test(k))).toEqual([]);
  });

  it('chaos injecting a fault', async () => {
    const flow = chaos(
      step('ship', () => 1),
      { fault: { rate: 1 }, seed: 7, enabled: true },
    );
    await settle(flow.run(undefined, { workflow: 'fulfil' }));

    expect(await series(registry)).toEqual({
      'weft_workflow_runs_total{workflow="fulfil",outcome="failed"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="fulfil",outcome="failed"}': 1,
      'weft_workflow_errors_total{workflow="fulfil",error="chaos_fault"}': 1,
      'weft_chaos_injections_total{workflow="fulfil",step="ship",fault="error"}': 1,
    });
  });

  it('a cache missing, then hitting, then failing over a broken store', async () => {
    const quote = cache(
      step('quote', (sku: string) => sku.length),
      { namespace: 'quotes' },
    );
    await quote.run('sku-1', { workflow: 'pricing' });
    await quote.run('sku-1', { workflow: 'pricing' });
    const broken = {
      get: () => Promise.reject(new Error('ECONNREFUSED 10.0.0.7:6379')),
      set: () => Promise.reject(new Error('ECONNREFUSED 10.0.0.7:6379')),
      delete: () => Promise.resolve(),
    };
    await cache(
      step('quote', (sku: string) => sku.length),
      { namespace: 'remote-quotes', store: broken },
    ).run('sku-2', { workflow: 'pricing' });

    const all = await series(registry);
    // The step ran for the miss and for the store error (a store error runs as a miss), not for the hit.
    expect(all).toEqual({
      'weft_workflow_runs_total{workflow="pricing",outcome="succeeded"}': 3,
      'weft_workflow_run_duration_seconds_count{workflow="pricing",outcome="succeeded"}': 3,
      'weft_step_duration_seconds_count{workflow="pricing",step="quote",outcome="success"}': 2,
      'weft_cache_requests_total{workflow="pricing",cache="quotes",result="miss"}': 1,
      'weft_cache_requests_total{workflow="pricing",cache="quotes",result="hit"}': 1,
      'weft_cache_requests_total{workflow="pricing",cache="remote-quotes",result="store_error"}': 1,
      'weft_cache_set_failures_total{workflow="pricing",cache="remote-quotes",reason="store_error"}': 1,
    });
  });

  it('a saga compensating the steps before a failed one', async () => {
    const booking = saga(
      [
        { name: 'reserve-seat', step: (id: string) => `seat-${id}`, compensate: () => undefined },
        { name: 'charge-card', step: (seat: string) => seat, compensate: () => undefined },
        {
          name: 'issue-ticket',
          step: () => {
            throw boom();
          },
        },
      ],
      { name: 'booking' },
    );
    await settle(booking.run('42', { workflow: 'travel' }));

    const all = await series(registry);
    expect(all).toEqual({
      'weft_workflow_runs_total{workflow="travel",outcome="failed"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="travel",outcome="failed"}': 1,
      'weft_workflow_errors_total{workflow="travel",error="other"}': 1,
      'weft_step_duration_seconds_count{workflow="travel",step="reserve-seat",outcome="success"}': 1,
      'weft_step_duration_seconds_count{workflow="travel",step="charge-card",outcome="success"}': 1,
      'weft_step_duration_seconds_count{workflow="travel",step="issue-ticket",outcome="error"}': 1,
      'weft_step_errors_total{workflow="travel",step="issue-ticket",error="other"}': 1,
      'weft_sagas_total{workflow="travel",saga="booking",outcome="compensated"}': 1,
      'weft_saga_compensations_total{workflow="travel",saga="booking",step="charge-card",outcome="success"}': 1,
      'weft_saga_compensations_total{workflow="travel",saga="booking",step="reserve-seat",outcome="success"}': 1,
    });
  });

  it('costs recorded by a step under a budget, and a route choice', async () => {
    const answer = budget(
      step('answer', (q: string) => {
        recordCost({ amount: 0.002, model: 'small-model', inputTokens: 900, outputTokens: 100 });
        return q;
      }),
      { name: 'tenant-daily', perRun: 0.01 },
    );
    const flow = route((q: string) => (q.length > 100 ? 'large' : 'small'), { small: answer, large: answer });
    await flow.run('hello', { workflow: 'support' });

    const all = await series(registry);
    expect(all).toEqual({
      'weft_workflow_runs_total{workflow="support",outcome="succeeded"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="support",outcome="succeeded"}': 1,
      'weft_step_duration_seconds_count{workflow="support",step="answer",outcome="success"}': 1,
      // The route primitive is named after its routes.
      'weft_routes_total{workflow="support",step="route:small|large",route="small",reason="selector"}': 1,
      'weft_cost_total{workflow="support",step="answer",model="small-model",currency="USD"}': 0.002,
      'weft_tokens_total{workflow="support",step="answer",model="small-model",direction="input"}': 900,
      'weft_tokens_total{workflow="support",step="answer",model="small-model",direction="output"}': 100,
      'weft_budget_utilisation_ratio{budget="tenant-daily",scope="run"}': 0.2,
    });
  });

  it('stale and store-error cache results, saga and cost events (synthetic events inside a real run)', async () => {
    const flow = step('assistant', () => {
      emitInRun({ type: 'cache.request', cache: 'answers', result: 'miss' });
      emitInRun({ type: 'cache.request', cache: 'answers', result: 'hit' });
      emitInRun({ type: 'cache.request', cache: 'answers', result: 'stale' });
      emitInRun({ type: 'cache.request', cache: 'answers', result: 'store_error', error: boom() });
      emitInRun({ type: 'route.chosen', route: 'small-model', reason: 'cost' });
      emitInRun({ type: 'cost.recorded', amount: 0.002, model: 'small-model', inputTokens: 900, outputTokens: 100, currency: 'USD' });
      emitInRun({ type: 'budget.usage', budget: 'tenant-daily', scope: 'window', spent: 9, limit: 10, utilisation: 0.9, warnAt: 0.8 });
      emitInRun({ type: 'saga.compensation', saga: 'booking', sagaId: 'b-1', compensatedStep: 'reserve-seat', outcome: 'success' });
      emitInRun({ type: 'saga.finished', saga: 'booking', sagaId: 'b-1', outcome: 'compensated', error: boom(), recovered: false });
      return 'answer';
    });
    await flow.run(undefined, { workflow: 'support' });

    expect(await series(registry)).toEqual({
      'weft_workflow_runs_total{workflow="support",outcome="succeeded"}': 1,
      'weft_workflow_run_duration_seconds_count{workflow="support",outcome="succeeded"}': 1,
      'weft_step_duration_seconds_count{workflow="support",step="assistant",outcome="success"}': 1,
      'weft_cache_requests_total{workflow="support",cache="answers",result="miss"}': 1,
      'weft_cache_requests_total{workflow="support",cache="answers",result="hit"}': 1,
      'weft_cache_requests_total{workflow="support",cache="answers",result="stale"}': 1,
      'weft_cache_requests_total{workflow="support",cache="answers",result="store_error"}': 1,
      'weft_routes_total{workflow="support",step="assistant",route="small-model",reason="cost"}': 1,
      'weft_cost_total{workflow="support",step="assistant",model="small-model",currency="USD"}': 0.002,
      'weft_tokens_total{workflow="support",step="assistant",model="small-model",direction="input"}': 900,
      'weft_tokens_total{workflow="support",step="assistant",model="small-model",direction="output"}': 100,
      'weft_budget_utilisation_ratio{budget="tenant-daily",scope="window"}': 0.9,
      'weft_budget_keys{budget="tenant-daily",scope="window",state="active"}': 1,
      'weft_budget_keys{budget="tenant-daily",scope="window",state="warning"}': 1,
      'weft_budget_keys{budget="tenant-daily",scope="window",state="exhausted"}': 0,
      'weft_budget_spent_total{budget="tenant-daily",scope="window"}': 9,
      'weft_saga_compensations_total{workflow="support",saga="booking",step="reserve-seat",outcome="success"}': 1,
      'weft_sagas_total{workflow="support",saga="booking",outcome="compensated"}': 1,
    });
  });

  it('a throwing metric never breaks the workflow', async () => {
    const flow = step('bill', () => {
      emitInRun({ type: 'cost.recorded', amount: Number.NaN, currency: 'USD' });
      return 'billed';
    });
    await expect(flow.run(undefined, { workflow: 'billing' })).resolves.toBe('billed');
    expect(await series(registry)).toMatchObject({ 'weft_metrics_handler_errors_total{event="cost.recorded"}': 1, 'weft_workflow_runs_total{workflow="billing",outcome="succeeded"}': 1 });
  });

  it('is visible through getMetricsAsJSON too', async () => {
    await step('noop', () => 1).run(undefined, { workflow: 'json' });
    const json = await registry.getMetricsAsJSON();
    const runs = json.find((m) => m.name === 'weft_workflow_runs_total');
    expect(runs?.values).toEqual([{ labels: { workflow: 'json', outcome: 'succeeded' }, value: 1 }]);
  });
});
