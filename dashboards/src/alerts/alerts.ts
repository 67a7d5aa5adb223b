/**
 * Weft's alerts: each with its expression (built from the same PromQL as the panel it links to), its
 * runbook, and the promtool cases that prove it stays silent and fires.
 */
import { LABELS as L, METRICS, QUEUE_METRICS as QM } from '@weft/prometheus';
import type { MonitoringConfig } from '../config.js';
import { sel, shared, UP } from '../promql.js';

/** A series fed to promtool, in its `series` / `values` notation. */
export interface TestSeries {
  readonly series: string;
  readonly values: string;
}

/** One promtool scenario: input series and when to evaluate. */
export interface Scenario {
  readonly series: readonly TestSeries[];
  readonly evalTime: string;
}

/** The alert promtool must see firing in the firing scenario, with exact labels and annotations. */
export interface Expected {
  readonly labels: Readonly<Record<string, string>>;
  readonly summary: string;
  readonly description: string;
}

/** One alert. */
export interface AlertSpec {
  readonly name: string;
  /** Runbook and promtool test file name, without extension. */
  readonly file: string;
  readonly severity: 'critical' | 'warning';
  readonly expr: string;
  readonly for: string;
  /** Annotation templates. */
  readonly summary: string;
  readonly description: string;
  /** The panel the runbook links to: dashboard uid and panel key. */
  readonly panel: { readonly dashboard: string; readonly key: string };
  /** Runbook: what the alert means, what to check, what to do. */
  readonly runbook: { readonly meaning: string; readonly check: readonly string[]; readonly act: readonly string[] };
  readonly tests: { readonly silent: Scenario; readonly fires: Scenario & { readonly expected: Expected } };
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

/** Every alert, built from the config. */
export function alertSpecs(config: MonitoringConfig): AlertSpec[] {
  const s = config.selector;
  const q = shared(config);
  const t = config.thresholds;
  const a = config.alerts;
  const target = 'job="weft-gateway", instance="gateway:3000"';
  const wf = `${target}, workflow="answer"`;
  // Series as the real services export them (the observe e2e test checks each one against a real scrape).
  const orders = 'job="weft-orders", instance="orders:3001", workflow="place_order"';
  const chat = `${target}, workflow="chat"`;
  return [
    {
      name: 'WeftWorkflowErrorRatioHigh',
      file: 'weft-workflow-error-ratio-high',
      severity: 'critical',
      expr: `${q.errorRatio(s, `job, ${L.workflow}`)} > ${t.workflowErrorRatio}`,
      for: a.workflowErrorRatio.for,
      summary: 'Workflow {{ $labels.workflow }} is failing',
      description: `{{ $value | humanizePercentage }} of {{ $labels.workflow }} runs on {{ $labels.job }} failed over the last ${config.windows.rate}; refusals by design are not counted (threshold ${pct(t.workflowErrorRatio)}).`,
      panel: { dashboard: 'weft-workflows', key: 'errorRatio' },
      runbook: {
        meaning: `More than ${pct(t.workflowErrorRatio)} of the workflow's runs have failed for ${a.workflowErrorRatio.for}. Runs that ended \`rejected\` (bad input, a rate limit, a spent budget, a declined card: refusals working as designed) are not counted; see **Refusals by workflow** for those.`,
        check: [
          '**Errors by kind** on the same dashboard: which Weft error code dominates (`timeout`, `fallback_exhausted`, `circuit_open`, `retry_exhausted`, `other`).',
          '**Step errors by kind**: which step fails first. A provider step failing with `other` usually means the provider answered an error status.',
          '**Circuit state** and **Fallbacks served**: whether a dependency is down and every alternative failed too.',
          "The service's logs for the failing runs: filter on `err` and the correlation IDs of failed requests.",
        ],
        act: [
          'A dependency is down: confirm with its status page; if only one alternative is down, isolate its breaker so calls go to the others at once.',
          'Timeouts: compare **Run duration** with the deadline; a slow dependency may need a longer timeout or a hedge.',
          'A deploy just happened: roll it back.',
        ],
      },
      tests: {
        silent: {
          evalTime: '20m',
          series: [
            { series: `${METRICS.workflowRuns}{${wf}, outcome="succeeded"}`, values: '0+54x30' },
            { series: `${METRICS.workflowRuns}{${wf}, outcome="rejected"}`, values: '0+6x30' },
            { series: `${METRICS.workflowRuns}{${wf}, outcome="failed"}`, values: '0+0x30' },
          ],
        },
        fires: {
          evalTime: '20m',
          series: [
            { series: `${METRICS.workflowRuns}{${wf}, outcome="succeeded"}`, values: '0+54x30' },
            { series: `${METRICS.workflowRuns}{${wf}, outcome="rejected"}`, values: '0+0x30' },
            { series: `${METRICS.workflowRuns}{${wf}, outcome="failed"}`, values: '0+6x30' },
          ],
          expected: {
            labels: { severity: 'critical', job: 'weft-gateway', workflow: 'answer' },
            summary: 'Workflow answer is failing',
            description: `10% of answer runs on weft-gateway failed over the last ${config.windows.rate}; refusals by design are not counted (threshold ${pct(t.workflowErrorRatio)}).`,
          },
        },
      },
    },
    {
      name: 'WeftWorkflowSlow',
      file: 'weft-workflow-slow',
      severity: 'warning',
      expr: `${q.runQuantile(0.95, s, `job, ${L.workflow}`)} > ${t.workflowP95Seconds}`,
      for: a.workflowSlow.for,
      summary: 'Workflow {{ $labels.workflow }} is slower than its objective',
      description: `The p95 duration of {{ $labels.workflow }} runs on {{ $labels.job }} is {{ printf "%.2f" $value }} s, over the ${t.workflowP95Seconds} s objective.`,
      panel: { dashboard: 'weft-workflows', key: 'runDuration' },
      runbook: {
        meaning: `The 95th percentile of the workflow's run duration has been above ${t.workflowP95Seconds} s for ${a.workflowSlow.for}: one run in twenty takes longer than the objective.`,
        check: [
          '**Step latency** heatmaps: which step got slower, and whether all its calls are slow or only a tail.',
          '**Retries and give-ups** and **Timeouts**: retries and timed-out attempts add their time to the run.',
          '**Fallbacks served**: a fallback adds the failed primary attempt before the alternative.',
          "On **Weft: Service**, **Event-loop lag** and **CPU**: a saturated process slows every run.",
        ],
        act: [
          'One dependency is slow: hedge it, or route away from it.',
          'The process is saturated: scale out, or lower concurrency with a bulkhead.',
        ],
      },
      tests: {
        silent: {
          evalTime: '30m',
          series: [
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="1"}`, values: '0+10x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="2.5"}`, values: '0+10x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="5"}`, values: '0+10x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="+Inf"}`, values: '0+10x40' },
          ],
        },
        fires: {
          evalTime: '30m',
          series: [
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="1"}`, values: '0x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="2.5"}`, values: '0x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="5"}`, values: '0+10x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="succeeded", le="+Inf"}`, values: '0+10x40' },
            // Ten times as many instant refusals: they must not pull the served runs' p95 down.
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="rejected", le="1"}`, values: '0+100x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="rejected", le="2.5"}`, values: '0+100x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="rejected", le="5"}`, values: '0+100x40' },
            { series: `${METRICS.workflowRunDuration}_bucket{${wf}, outcome="rejected", le="+Inf"}`, values: '0+100x40' },
          ],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', workflow: 'answer' },
            summary: 'Workflow answer is slower than its objective',
            description: `The p95 duration of answer runs on weft-gateway is 4.88 s, over the ${t.workflowP95Seconds} s objective.`,
          },
        },
      },
    },
    {
      name: 'WeftCircuitOpen',
      file: 'weft-circuit-open',
      severity: 'warning',
      expr: `${q.circuitNotRecovered(s, `job, instance, ${L.breaker}`)} == 1`,
      for: a.circuitOpen.for,
      summary: 'Circuit {{ $labels.breaker }} has been open for over ' + a.circuitOpen.for,
      description: `Circuit breaker {{ $labels.breaker }} on {{ $labels.instance }} ({{ $labels.job }}) has been open or half-open for more than ${a.circuitOpen.for}: calls through it fail fast or go to a fallback.`,
      panel: { dashboard: 'weft-workflows', key: 'circuitState' },
      runbook: {
        meaning: `The breaker opened after consecutive failures and its half-open probes keep failing, so it has not closed for ${a.circuitOpen.for}. Open and half-open both count, so a breaker that keeps re-opening after each probe stays alerted.`,
        check: [
          '**Circuit state**: when it opened, and whether other breakers opened too (a shared dependency).',
          '**Circuit transitions and rejections**: how many calls it rejects.',
          '**Step errors by kind** for the guarded step: what the failures were before it opened.',
          '**Fallbacks served**: whether callers are still served by an alternative.',
        ],
        act: [
          'Fix or wait out the dependency; the breaker closes on its own after a successful probe.',
          'To stop probing a dependency you know is down, isolate the breaker, and reset it when the dependency is back.',
        ],
      },
      tests: {
        silent: {
          evalTime: '10m',
          series: [
            { series: `${METRICS.circuitState}{${target}, breaker="provider.beta", state="open"}`, values: '1 1 1 0 0 0 0 0 0 0 0 0' },
            { series: `${METRICS.circuitState}{${target}, breaker="provider.beta", state="half-open"}`, values: '0 0 0 1 0 0 0 0 0 0 0 0' },
            { series: `${METRICS.circuitState}{${target}, breaker="provider.beta", state="closed"}`, values: '0 0 0 0 1 1 1 1 1 1 1 1' },
          ],
        },
        fires: {
          evalTime: '10m',
          series: [
            { series: `${METRICS.circuitState}{${target}, breaker="provider.beta", state="open"}`, values: '1 0 1 0 1 0 1 0 1 0 1 0' },
            { series: `${METRICS.circuitState}{${target}, breaker="provider.beta", state="half-open"}`, values: '0 1 0 1 0 1 0 1 0 1 0 1' },
            { series: `${METRICS.circuitState}{${target}, breaker="provider.beta", state="closed"}`, values: '0x11' },
          ],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', instance: 'gateway:3000', breaker: 'provider.beta' },
            summary: `Circuit provider.beta has been open for over ${a.circuitOpen.for}`,
            description: `Circuit breaker provider.beta on gateway:3000 (weft-gateway) has been open or half-open for more than ${a.circuitOpen.for}: calls through it fail fast or go to a fallback.`,
          },
        },
      },
    },
    {
      name: 'WeftFallbackRateHigh',
      file: 'weft-fallback-rate-high',
      severity: 'warning',
      expr: `${q.fallbackRatio(s, `job, ${L.workflow}, ${L.step}`, config.windows.rate)} > ${t.fallbackRatio}`,
      for: a.fallbackRatio.for,
      summary: 'Step {{ $labels.step }} is mostly served by its fallback',
      description: `{{ $value | humanizePercentage }} of {{ $labels.step }} calls in {{ $labels.workflow }} on {{ $labels.job }} were served by a fallback alternative over the last ${config.windows.rate}: the primary looks gone.`,
      panel: { dashboard: 'weft-workflows', key: 'fallbackRatio' },
      runbook: {
        meaning: `Over ${pct(t.fallbackRatio)} of calls went to a fallback alternative for ${a.fallbackRatio.for}. Users are still served, but by the alternative: often dearer, slower or worse, and with one failure left between them and errors.`,
        check: [
          '**Fallbacks served, by alternative**: which alternative is carrying the load, and whether `exhausted` is rising too.',
          '**Circuit state**: the primary\'s breaker is usually open.',
          '**Step errors by kind** for the primary step: timeouts, error statuses, or rejections.',
          'On **Weft: Cache & Cost**, **Cost rate by workflow and model**: whether the alternative costs more.',
        ],
        act: [
          'Bring the primary back, or accept the alternative and watch cost and latency.',
          'If the alternative has less capacity, protect it with a rate limit or bulkhead before it fails too.',
        ],
      },
      tests: {
        silent: {
          evalTime: '20m',
          series: [
            { series: `${METRICS.fallbacks}{${wf}, step="provider.beta", alternative="1"}`, values: '0+6x30' },
            { series: `${METRICS.stepDuration}_count{${wf}, step="provider.beta", outcome="success"}`, values: '0+54x30' },
          ],
        },
        fires: {
          evalTime: '20m',
          series: [
            { series: `${METRICS.fallbacks}{${wf}, step="provider.beta", alternative="1"}`, values: '0+60x30' },
            { series: `${METRICS.stepDuration}_count{${wf}, step="provider.beta", outcome="error"}`, values: '0+120x30' },
          ],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', workflow: 'answer', step: 'provider.beta' },
            summary: 'Step provider.beta is mostly served by its fallback',
            description: `100% of provider.beta calls in answer on weft-gateway were served by a fallback alternative over the last ${config.windows.rate}: the primary looks gone.`,
          },
        },
      },
    },
    {
      name: 'WeftCacheHitRatioCollapsed',
      file: 'weft-cache-hit-ratio-collapsed',
      severity: 'warning',
      expr: `${q.cacheHitRatio(s, `job, ${L.cache}`)} < ${t.cacheHitRatio} and ${q.cacheLookups(s, `job, ${L.cache}`)} > ${t.cacheMinLookupsPerSecond}`,
      for: a.cacheHitRatio.for,
      summary: 'Cache {{ $labels.cache }} hit ratio collapsed',
      description: `Cache {{ $labels.cache }} on {{ $labels.job }} answered only {{ $value | humanizePercentage }} of lookups from cache over the last ${config.windows.rate} (floor ${pct(t.cacheHitRatio)}).`,
      panel: { dashboard: 'weft-cache-cost', key: 'cacheHitRatio' },
      runbook: {
        meaning: `The cache's hit ratio has stayed under ${pct(t.cacheHitRatio)} for ${a.cacheHitRatio.for} while it sees at least ${t.cacheMinLookupsPerSecond} lookups/s. Every miss goes to the dependency behind the cache, which costs money and latency.`,
        check: [
          '**Lookups by result**: misses rising, or `store_error` (the store is failing and lookups count as misses).',
          '**Store errors**: the cache store (Redis) failing reads or writes.',
          'Whether a deploy changed the cache key, its version or its TTL: each empties the cache.',
          'Whether the traffic changed: new, unrepeated questions cannot hit.',
        ],
        act: [
          'Store errors: fix the store (Redis reachability, memory, evictions).',
          'A key or version change: expect the ratio to recover as the cache refills; watch **Cost rate** meanwhile.',
        ],
      },
      tests: {
        silent: {
          evalTime: '30m',
          series: [
            { series: `${METRICS.cacheRequests}{${wf}, cache="answers", result="hit"}`, values: '0+48x40' },
            { series: `${METRICS.cacheRequests}{${wf}, cache="answers", result="miss"}`, values: '0+12x40' },
          ],
        },
        fires: {
          evalTime: '30m',
          series: [
            { series: `${METRICS.cacheRequests}{${wf}, cache="answers", result="hit"}`, values: '0+6x40' },
            { series: `${METRICS.cacheRequests}{${wf}, cache="answers", result="miss"}`, values: '0+54x40' },
          ],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', cache: 'answers' },
            summary: 'Cache answers hit ratio collapsed',
            description: `Cache answers on weft-gateway answered only 10% of lookups from cache over the last ${config.windows.rate} (floor ${pct(t.cacheHitRatio)}).`,
          },
        },
      },
    },
    {
      name: 'WeftCostBurnAbovePlan',
      file: 'weft-cost-burn-above-plan',
      severity: 'warning',
      expr: `${q.costPerHour(s, `job, ${L.currency}`)} > ${t.costPlanPerHour}`,
      for: a.costBurn.for,
      summary: 'Spend on {{ $labels.job }} is above plan',
      description: `{{ $labels.job }} is spending {{ printf "%.2f" $value }} {{ $labels.currency }} per hour, averaged over ${config.windows.cost}; the plan is ${t.costPlanPerHour} per hour.`,
      panel: { dashboard: 'weft-cache-cost', key: 'costBurn' },
      runbook: {
        meaning: `Spend recorded by Weft's cost tracking, averaged over ${config.windows.cost}, has been above the plan of ${t.costPlanPerHour} per hour for ${a.costBurn.for}.`,
        check: [
          '**Cost rate by workflow and model**: which workflow and model spend it.',
          '**Hit ratio by cache**: a cache collapse sends every request to a paid model.',
          'On **Weft: Workflows**, **Fallbacks served**: a fallback to a dearer model raises the cost per call.',
          '**Tokens by model**: longer prompts or answers, or more calls.',
          "On **Weft: Service**, **Requests by route and status**: more traffic, or one caller's burst.",
        ],
        act: [
          'Expected growth: raise the plan in `dashboards/src/config.ts` and regenerate.',
          'A runaway caller: lower its rate limit or daily budget.',
          'A fallback to a dear model: bring the cheap primary back.',
        ],
      },
      tests: {
        silent: {
          evalTime: '90m',
          series: [{ series: `${METRICS.cost}{${wf}, step="provider.gamma", model="gpt-4o", currency="USD"}`, values: '0+0.1x100' }],
        },
        fires: {
          evalTime: '90m',
          series: [{ series: `${METRICS.cost}{${wf}, step="provider.gamma", model="gpt-4o", currency="USD"}`, values: '0+0.25x100' }],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', currency: 'USD' },
            summary: 'Spend on weft-gateway is above plan',
            description: `weft-gateway is spending 15.00 USD per hour, averaged over ${config.windows.cost}; the plan is ${t.costPlanPerHour} per hour.`,
          },
        },
      },
    },
    {
      name: 'WeftBudgetExhaustionPredicted',
      file: 'weft-budget-exhaustion-predicted',
      severity: 'warning',
      expr: `${q.budgetProjected(s)} > 1 and ${METRICS.budgetUtilisation}${sel(s, `${L.scope}="window"`)} < 1`,
      for: a.budgetExhaustionPredicted.for,
      summary: 'Budget {{ $labels.budget }} will run out within ' + t.budgetHorizonSeconds / 3600 + ' h',
      description: `At the trend of the last ${config.windows.budgetTrend}, budget {{ $labels.budget }} on {{ $labels.instance }} reaches {{ $value | humanizePercentage }} of its limit within ${t.budgetHorizonSeconds / 3600} h; then calls are refused.`,
      panel: { dashboard: 'weft-cache-cost', key: 'spendProjection' },
      runbook: {
        meaning: `predict_linear over the budget's utilisation in the last ${config.windows.budgetTrend} says it passes 100% within ${t.budgetHorizonSeconds / 3600} h. Once it does, the budget refuses calls (the gateway answers 402) until spend ages out of its window.`,
        check: [
          '**Budget utilisation**: how close it is now, and how fast it climbs.',
          '**Cost rate by workflow and model**: what is spending.',
          '**Hit ratio by cache** and, on **Weft: Workflows**, **Fallbacks served**: a cache collapse or a fallback to a dearer model both raise spend.',
        ],
        act: [
          'Expected use: raise the limit before it runs out.',
          'Unexpected: find the caller or workflow and slow it (rate limit) before the budget cuts everyone off.',
        ],
      },
      tests: {
        silent: {
          evalTime: '80m',
          series: [{ series: `${METRICS.budgetUtilisation}{${target}, budget="daily", scope="window"}`, values: '0.2+0x90' }],
        },
        fires: {
          evalTime: '80m',
          series: [{ series: `${METRICS.budgetUtilisation}{${target}, budget="daily", scope="window"}`, values: '0+0.005x90' }],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', instance: 'gateway:3000', budget: 'daily', scope: 'window' },
            summary: `Budget daily will run out within ${t.budgetHorizonSeconds / 3600} h`,
            description: `At the trend of the last ${config.windows.budgetTrend}, budget daily on gateway:3000 reaches 160% of its limit within ${t.budgetHorizonSeconds / 3600} h; then calls are refused.`,
          },
        },
      },
    },
    {
      name: 'WeftBudgetExhausted',
      file: 'weft-budget-exhausted',
      severity: 'warning',
      expr: `sum by (job, ${L.budget}, ${L.scope}) (increase(${METRICS.budgetExceeded}${sel(s)}[${config.windows.rate}])) > 0`,
      for: a.budgetExhausted.for,
      summary: 'Budget {{ $labels.budget }} is refusing calls',
      description: `Budget {{ $labels.budget }} ({{ $labels.scope }}) on {{ $labels.job }} refused {{ printf "%.0f" $value }} calls in the last ${config.windows.rate} because it is exhausted.`,
      panel: { dashboard: 'weft-cache-cost', key: 'budgetRefusals' },
      runbook: {
        meaning: 'A budget is exhausted and refuses calls (the gateway answers 402 budget_exhausted). A `run` scope means single runs hit their per-run cap; `window` means the rolling window is spent.',
        check: [
          '**Budget refusals**: which budget and scope, and since when.',
          '**Budget utilisation** and **Spend projection**: whether this was predicted, and how fast it was spent.',
          '**Cost rate by workflow and model**: what spent it.',
        ],
        act: ['If the spend is legitimate, raise the limit; otherwise find and stop the caller. Spend ages out of the window on its own.'],
      },
      tests: {
        silent: { evalTime: '10m', series: [{ series: `${METRICS.budgetExceeded}{${target}, budget="daily", scope="window"}`, values: '0x15' }] },
        fires: {
          evalTime: '10m',
          series: [{ series: `${METRICS.budgetExceeded}{${target}, budget="daily", scope="window"}`, values: '0+3x15' }],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', budget: 'daily', scope: 'window' },
            summary: 'Budget daily is refusing calls',
            description: `Budget daily (window) on weft-gateway refused 15 calls in the last ${config.windows.rate} because it is exhausted.`,
          },
        },
      },
    },
    {
      name: 'WeftSagaCompensationFailures',
      file: 'weft-saga-compensation-failures',
      severity: 'critical',
      expr: `sum by (job, ${L.workflow}, ${L.saga}) (increase(${METRICS.sagas}${sel(s, `${L.outcome}="compensation_failed"`)}[${config.windows.compensation}])) > ${t.compensationFailures}`,
      for: a.compensationFailures.for,
      summary: 'Saga {{ $labels.saga }} failed to compensate',
      description: `{{ printf "%.0f" $value }} runs of saga {{ $labels.saga }} in {{ $labels.workflow }} on {{ $labels.job }} failed and could not undo their completed steps in the last ${config.windows.compensation}: data may be left half-done.`,
      panel: { dashboard: 'weft-workflows', key: 'sagas' },
      runbook: {
        meaning: 'A saga failed, and at least one compensation (the undo of a completed step) failed too, after its retries. The side effects of the completed steps may still stand: a payment taken without an order, a reservation never released.',
        check: [
          '**Saga outcomes**: which saga, and which step\'s compensation fails (`compensate <step>: error`).',
          'The logs for `CompensationError`: each failed compensation is listed with its cause and the saga execution ID.',
          'The saga log (`GET /v1/orders/<id>` in the orders service, or `RedisSagaLog.get`): a `compensation_failed` entry names the step and the error. An execution whose instance died mid-compensation is not a failure: `superviseSagas` takes it over once its lease lapses and goes on compensating.',
        ],
        act: [
          'Fix what the compensation calls (the dependency, or an undo that does not tolerate "nothing to undo"): compensations are called by idempotency key and must be idempotent.',
          'Reconcile by hand the executions that recovery cannot finish.',
        ],
      },
      tests: {
        silent: {
          evalTime: '10m',
          series: [
            { series: `${METRICS.sagas}{${orders}, saga="place_order", outcome="compensated"}`, values: '0+1x15' },
            { series: `${METRICS.sagas}{${orders}, saga="place_order", outcome="compensation_failed"}`, values: '0x15' },
          ],
        },
        fires: {
          evalTime: '10m',
          series: [
            { series: `${METRICS.sagas}{${orders}, saga="place_order", outcome="compensated"}`, values: '0+1x15' },
            { series: `${METRICS.sagas}{${orders}, saga="place_order", outcome="compensation_failed"}`, values: '0 0 0 0 0 0 1 2 3 3 3 3 3 3 3 3' },
          ],
          expected: {
            labels: { severity: 'critical', job: 'weft-orders', workflow: 'place_order', saga: 'place_order' },
            summary: 'Saga place_order failed to compensate',
            description: `3 runs of saga place_order in place_order on weft-orders failed and could not undo their completed steps in the last ${config.windows.compensation}: data may be left half-done.`,
          },
        },
      },
    },
    {
      name: 'WeftStreamFirstTokenSlow',
      file: 'weft-stream-first-token-slow',
      severity: 'warning',
      expr: `histogram_quantile(0.95, sum by (job, ${L.workflow}, ${L.step}, le) (rate(${METRICS.streamTimeToFirstChunk}_bucket${sel(s)}[${config.windows.rate}]))) > ${t.streamFirstChunkP95Seconds}`,
      for: a.streamFirstChunkSlow.for,
      summary: 'Streams of {{ $labels.step }} are slow to start',
      description: `The p95 time to first token of {{ $labels.step }} in {{ $labels.workflow }} on {{ $labels.job }} is {{ printf "%.2f" $value }} s, over the ${t.streamFirstChunkP95Seconds} s objective.`,
      panel: { dashboard: 'weft-workflows', key: 'streamFirstChunk' },
      runbook: {
        meaning: `One stream in twenty has waited more than ${t.streamFirstChunkP95Seconds} s for its first token, for ${a.streamFirstChunkSlow.for}. Users see nothing until then: this is the latency they feel, whatever the total.`,
        check: [
          '**Time to first chunk** by step: one provider or all of them.',
          '**Streams by outcome**: many `failed_before_first_chunk` mean retries and fallbacks are adding their attempts to the wait.',
          '**Hedges** on the same dashboard: whether a first-chunk hedge is starting, and winning.',
          "The provider's status page: time to first token degrades before errors appear.",
        ],
        act: [
          'Hedge the stream on its first chunk (`.hedge({ delayMs })` near the p95) or lower `firstChunkMs` so a stalled provider falls back sooner.',
          'Route the tier to a faster provider while this one recovers.',
        ],
      },
      tests: {
        silent: {
          evalTime: '20m',
          series: [
            { series: `${METRICS.streamTimeToFirstChunk}_bucket{${chat}, step="provider.alpha", le="1"}`, values: '0+10x25' },
            { series: `${METRICS.streamTimeToFirstChunk}_bucket{${chat}, step="provider.alpha", le="2.5"}`, values: '0+10x25' },
            { series: `${METRICS.streamTimeToFirstChunk}_bucket{${chat}, step="provider.alpha", le="+Inf"}`, values: '0+10x25' },
          ],
        },
        fires: {
          evalTime: '20m',
          series: [
            { series: `${METRICS.streamTimeToFirstChunk}_bucket{${chat}, step="provider.alpha", le="1"}`, values: '0x25' },
            { series: `${METRICS.streamTimeToFirstChunk}_bucket{${chat}, step="provider.alpha", le="2.5"}`, values: '0+2x25' },
            { series: `${METRICS.streamTimeToFirstChunk}_bucket{${chat}, step="provider.alpha", le="5"}`, values: '0+10x25' },
            { series: `${METRICS.streamTimeToFirstChunk}_bucket{${chat}, step="provider.alpha", le="+Inf"}`, values: '0+10x25' },
          ],
          expected: {
            labels: { severity: 'warning', job: 'weft-gateway', workflow: 'chat', step: 'provider.alpha' },
            summary: 'Streams of provider.alpha are slow to start',
            description: `The p95 time to first token of provider.alpha in chat on weft-gateway is 4.84 s, over the ${t.streamFirstChunkP95Seconds} s objective.`,
          },
        },
      },
    },
    {
      name: 'WeftQueueBacklogGrowing',
      file: 'weft-queue-backlog-growing',
      severity: 'warning',
      // Any job: every service that runs durable queues reports them. Each instance reports the
      // same shared counts, hence max, not sum.
      expr: `(max by (job, queue) (${QM.jobs}{${L.state}=~"waiting|prioritized"}) > ${t.queueBacklog}) and (max by (job, queue) (delta(${QM.jobs}{${L.state}=~"waiting|prioritized"}[10m])) > 0)`,
      for: a.queueBacklog.for,
      summary: 'Queue {{ $labels.queue }} is backing up',
      description: `{{ $value }} jobs wait in queue {{ $labels.queue }} ({{ $labels.job }}), over ${t.queueBacklog} and still growing: workers are not keeping up, or none is running.`,
      panel: { dashboard: 'weft-workflows', key: 'queueBacklog' },
      runbook: {
        meaning: `More than ${t.queueBacklog} jobs have been waiting in a durable queue, and the backlog has grown over the last 10 minutes, for ${a.queueBacklog.for}. Callers that run and wait get 202 (pending) instead of an answer; work is delayed, not lost: jobs stay in Redis until a worker takes them.`,
        check: [
          '**Queue backlog**: waiting against active. Active near 0 means no worker is taking jobs; active at the workers\u2019 concurrency means they are saturated.',
          '**Job outcomes and stalls**: many `retried` or `stalled` means attempts fail or workers die (look at **Dead-letter queue** too).',
          '**Job duration p95**: a slower dependency makes every job take longer.',
          'The worker Deployment: are the pods running, ready, restarting?',
        ],
        act: [
          'No worker running: start the worker Deployment (`ORDERS_ROLE=worker`).',
          'Workers saturated: scale the worker Deployment out, or raise `WORKER_CONCURRENCY` if the dependencies can take it.',
          'Jobs failing and retrying: fix the dependency; then replay the dead-letter queue.',
        ],
      },
      tests: {
        silent: {
          evalTime: '20m',
          series: [{ series: `${QM.jobs}{job="weft-orders", instance="orders:3001", queue="place_order", state="waiting"}`, values: '500-10x25' }],
        },
        fires: {
          evalTime: '20m',
          series: [
            { series: `${QM.jobs}{job="weft-orders", instance="orders:3001", queue="place_order", state="waiting"}`, values: '100+10x25' },
            { series: `${QM.jobs}{job="weft-orders", instance="orders-worker:3001", queue="place_order", state="waiting"}`, values: '100+10x25' },
          ],
          expected: {
            labels: { severity: 'warning', job: 'weft-orders', queue: 'place_order' },
            summary: 'Queue place_order is backing up',
            description: `300 jobs wait in queue place_order (weft-orders), over ${t.queueBacklog} and still growing: workers are not keeping up, or none is running.`,
          },
        },
      },
    },
    {
      name: 'WeftTargetDown',
      file: 'weft-target-down',
      severity: 'critical',
      // absent(): with no target at all there is no `up` series to be 0, and every other alert is blind.
      expr: `${UP}${sel(s)} == 0 or absent(${UP}${sel(s)})`,
      for: a.targetDown.for,
      summary: '{{ $labels.instance }} is down',
      description: `Prometheus has failed to scrape {{ $labels.instance }} of {{ $labels.job }} for more than ${a.targetDown.for}: the service is down or unreachable, and every other Weft alert is blind to it.`,
      panel: { dashboard: 'weft-service', key: 'up' },
      runbook: {
        meaning: "Prometheus's scrapes of the instance fail. Either the process is down, or it cannot be reached, or `/metrics` errors. While it lasts, no other alert about this instance can fire.",
        check: [
          '**Up (scraped by Prometheus)**: one instance or all of them.',
          "Prometheus's Targets page: the scrape error (connection refused, timeout, HTTP status).",
          'The process: is it running, restarting (crash loop), or out of memory? Check **Memory** just before it went down.',
          "`/health/ready` on the instance: 503 means it is up but not ready (shutting down, or Redis unreachable).",
        ],
        act: ['Restart or roll back the instance; fix the network path if the process is healthy.'],
      },
      tests: {
        silent: { evalTime: '6m', series: [{ series: `${UP}{${target}}`, values: '1x10' }] },
        fires: {
          evalTime: '6m',
          series: [{ series: `${UP}{${target}}`, values: '1 1 0 0 0 0 0 0 0 0' }],
          expected: {
            labels: { severity: 'critical', job: 'weft-gateway', instance: 'gateway:3000' },
            summary: 'gateway:3000 is down',
            description: `Prometheus has failed to scrape gateway:3000 of weft-gateway for more than ${a.targetDown.for}: the service is down or unreachable, and every other Weft alert is blind to it.`,
          },
        },
      },
    },
  ];
}
