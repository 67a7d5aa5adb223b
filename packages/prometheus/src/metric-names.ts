/**
 * The names of every metric and label `@weft/prometheus` writes. Dashboards and alerts import these
 * instead of retyping them, so a rename breaks their build rather than silently emptying a panel.
 */

/**
 * Every label name the collector uses. Their values come only from names written in code (workflow,
 * step, breaker, cache, ...) or from small fixed sets (outcome, result, reason), never from input.
 *
 * @example
 * ```ts
 * import { LABELS, METRICS } from '@weft/prometheus';
 * const query = `sum by (${LABELS.workflow}) (rate(${METRICS.workflowRuns}[5m]))`;
 * ```
 */
export const LABELS = {
  /** The workflow (the primitive `run()` was called on, or `RunOptions.workflow`). */
  workflow: 'workflow',
  /** The step or primitive name that reported the event. */
  step: 'step',
  /** For runs `succeeded`, `rejected` (an expected refusal: bad input, a budget, a rate limit, a declined card) or `failed` (a fault); for steps `success` or `error`; for sagas `completed`, `compensated` or `compensation_failed`; for streams `completed`, `failed_before_first_chunk`, `failed_mid_stream` or `aborted`. */
  outcome: 'outcome',
  /** A Weft error code in snake case (`timeout`, `circuit_open`, ...), or `other` for any other error. */
  error: 'error',
  /**
   * Why something happened, from a fixed set: a retry gave up (`exhausted`, `not_retryable`, `deadline`)
   * or was cancelled (`hedge_lost`, `cancelled`, `aborted`), a route was chosen (`selector`, `default`, `weighted`, `cost`), a store failed
   * (`error`, `timeout`), a cache value was not stored (`too_large`, `unserializable`, `store_error`),
   * a label value was replaced (`too_long`, `too_many_values`).
   */
  reason: 'reason',
  /** Which fallback alternative served: `1` for the first alternative, `2` for the second, ... */
  alternative: 'alternative',
  /** The circuit breaker's name. */
  breaker: 'breaker',
  /** A circuit state: `closed`, `open`, `half-open`, `isolated`; for a per-key budget's keys `active`, `warning` or `exhausted`. */
  state: 'state',
  /** The state a circuit left. */
  from: 'from',
  /** The state a circuit entered. */
  to: 'to',
  /** The bulkhead's name. */
  bulkhead: 'bulkhead',
  /** The rate limiter's key. */
  limiter: 'limiter',
  /** What started a hedge: `delay` or `error`. */
  trigger: 'trigger',
  /** The cache's name. */
  cache: 'cache',
  /** A cache lookup's result: `hit`, `miss`, `stale`, `store_error`. */
  result: 'result',
  /** The saga's name. */
  saga: 'saga',
  /** The model a cost was recorded for, or `none`. */
  model: 'model',
  /** The cost's currency code, as written in the price table. */
  currency: 'currency',
  /** Token direction: `input` or `output`; for saga takeovers `resume` or `compensate`. */
  direction: 'direction',
  /** The budget's name. */
  budget: 'budget',
  /** A budget's scope: `run` (the per-run limit) or `window` (the rolling-window limit). */
  scope: 'scope',
  /** A budget store operation: `reserve` (before a call) or `charge` (after it). */
  operation: 'operation',
  /** What became of a call whose budget store was down: `open` (failOpen), `allowance` (the local allowance admitted it) or `refused`. */
  decision: 'decision',
  /** The injected fault: `error`, `latency`, `result`. */
  fault: 'fault',
  /** The route chosen. */
  route: 'route',
  /** The label whose value was replaced, on the overflow metric. */
  label: 'label',
  /** The event type whose handler failed, on the handler-error metric. */
  event: 'event',
} as const;

/**
 * A label name the collector uses.
 *
 * @example
 * ```ts
 * const by: LabelName[] = [LABELS.workflow, LABELS.step];
 * ```
 */
export type LabelName = (typeof LABELS)[keyof typeof LABELS];

/**
 * The value a label takes when its value was dropped to bound cardinality, and the `error` label's
 * value for errors that are not Weft errors.
 *
 * @example
 * ```ts
 * const leaked = `sum(rate(${METRICS.workflowRuns}{workflow="${OVERFLOW_LABEL_VALUE}"}[5m])) > 0`;
 * ```
 */
export const OVERFLOW_LABEL_VALUE = 'other';

/**
 * The `model` label's value when a cost was recorded without a model.
 *
 * @example
 * ```ts
 * const unpriced = `sum(rate(${METRICS.cost}{model="${NO_MODEL_LABEL_VALUE}"}[1h]))`;
 * ```
 */
export const NO_MODEL_LABEL_VALUE = 'none';

/**
 * Prometheus metric types used here.
 *
 * @example
 * ```ts
 * const counters = Object.values(METRIC_DEFINITIONS).filter((d) => d.type === ('counter' satisfies MetricType));
 * ```
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * One metric's definition: its name, type, label names and meaning.
 *
 * @example
 * ```ts
 * const d: MetricDefinition = METRIC_DEFINITIONS.stepDuration;
 * console.log(`${d.name} (${d.type}) by ${d.labels.join(', ')}: ${d.help}`);
 * ```
 */
export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly LabelName[];
  /** The HELP text, which is also the meaning in the README table. */
  readonly help: string;
}

const L = LABELS;

/**
 * Every metric with its type, labels and meaning. The collector builds its metrics from this table,
 * and the README's table is checked against it by a test.
 *
 * @example
 * ```ts
 * import { METRIC_DEFINITIONS } from '@weft/prometheus';
 * for (const d of Object.values(METRIC_DEFINITIONS)) console.log(d.name, d.type, d.labels.join(','));
 * ```
 */
export const METRIC_DEFINITIONS = {
  workflowRuns: { name: 'weft_workflow_runs_total', type: 'counter', labels: [L.workflow, L.outcome], help: 'Workflow runs finished, by outcome: succeeded, rejected (an expected refusal, the caller\'s fault or a business decision) or failed (a fault).' },
  workflowRunDuration: { name: 'weft_workflow_run_duration_seconds', type: 'histogram', labels: [L.workflow, L.outcome], help: 'Duration of finished workflow runs, in seconds, by outcome (latency objectives read succeeded runs).' },
  workflowErrors: { name: 'weft_workflow_errors_total', type: 'counter', labels: [L.workflow, L.error], help: 'Runs that ended with an error (rejected or failed), by Weft error code (other for non-Weft errors).' },
  stepDuration: { name: 'weft_step_duration_seconds', type: 'histogram', labels: [L.workflow, L.step, L.outcome], help: 'Duration of finished step calls (each attempt), in seconds; its _count counts step calls.' },
  stepErrors: { name: 'weft_step_errors_total', type: 'counter', labels: [L.workflow, L.step, L.error], help: 'Failed step calls, by Weft error code (other for non-Weft errors).' },
  retryAttempts: { name: 'weft_retry_attempts_total', type: 'counter', labels: [L.workflow, L.step], help: 'Attempts made by retry primitives, the first attempt included.' },
  retries: { name: 'weft_retries_total', type: 'counter', labels: [L.workflow, L.step], help: 'Failed attempts that a retry primitive scheduled another attempt after.' },
  retryGaveUp: { name: 'weft_retry_gave_up_total', type: 'counter', labels: [L.workflow, L.step, L.reason], help: 'Retried calls that ended without success, by reason: exhausted, deadline or not_retryable (the retry gave up), or a cancellation: hedge_lost (another hedged attempt won), cancelled (a sibling failed), aborted (the caller gave up).' },
  timeouts: { name: 'weft_timeouts_total', type: 'counter', labels: [L.workflow, L.step], help: 'Calls whose timeout expired.' },
  fallbacks: { name: 'weft_fallbacks_total', type: 'counter', labels: [L.workflow, L.step, L.alternative], help: 'Calls served by a fallback alternative, by which alternative (1 = first).' },
  fallbackExhausted: { name: 'weft_fallback_exhausted_total', type: 'counter', labels: [L.workflow, L.step], help: 'Calls where the primary and every fallback alternative failed.' },
  circuitState: { name: 'weft_circuit_state', type: 'gauge', labels: [L.breaker, L.state], help: 'Circuit breaker state: 1 for the current state, 0 for the others (one series per state).' },
  circuitTransitions: { name: 'weft_circuit_transitions_total', type: 'counter', labels: [L.breaker, L.from, L.to], help: 'Circuit breaker state changes.' },
  circuitRejections: { name: 'weft_circuit_rejections_total', type: 'counter', labels: [L.workflow, L.breaker, L.state], help: 'Calls a circuit breaker rejected, by the state it was in.' },
  bulkheadRejections: { name: 'weft_bulkhead_rejections_total', type: 'counter', labels: [L.workflow, L.bulkhead], help: 'Calls a bulkhead rejected because every slot and queue place was taken.' },
  rateLimitRejections: { name: 'weft_ratelimit_rejections_total', type: 'counter', labels: [L.workflow, L.limiter], help: 'Calls a rate limiter rejected.' },
  rateLimitStoreErrors: { name: 'weft_ratelimit_store_errors_total', type: 'counter', labels: [L.limiter, L.reason], help: 'Rate-limit store failures (error or timeout) answered from a local bucket.' },
  hedgesStarted: { name: 'weft_hedges_started_total', type: 'counter', labels: [L.workflow, L.step, L.trigger], help: 'Extra hedged attempts started, by trigger (delay or error).' },
  hedgesWon: { name: 'weft_hedges_won_total', type: 'counter', labels: [L.workflow, L.step], help: 'Hedged calls won by an extra attempt rather than the first.' },
  cacheRequests: { name: 'weft_cache_requests_total', type: 'counter', labels: [L.workflow, L.cache, L.result], help: 'Cache lookups, by result: hit, miss, stale or store_error.' },
  cacheSetFailures: { name: 'weft_cache_set_failures_total', type: 'counter', labels: [L.workflow, L.cache, L.reason], help: 'Values a cache did not store, by reason: too_large, unserializable or store_error.' },
  sagas: { name: 'weft_sagas_total', type: 'counter', labels: [L.workflow, L.saga, L.outcome], help: 'Finished sagas, by outcome: completed, compensated or compensation_failed.' },
  sagaCompensations: { name: 'weft_saga_compensations_total', type: 'counter', labels: [L.workflow, L.saga, L.step, L.outcome], help: 'Compensations run by sagas, by compensated step and outcome (success or error).' },
  sagaTakeovers: { name: 'weft_saga_takeovers_total', type: 'counter', labels: [L.workflow, L.saga, L.direction], help: 'Saga executions taken over from an instance whose lease lapsed (it died), by direction: resume (forward) or compensate.' },
  streamTimeToFirstChunk: { name: 'weft_stream_time_to_first_chunk_seconds', type: 'histogram', labels: [L.workflow, L.step], help: 'Time from a streaming step\'s call to its first chunk (time to first token), in seconds.' },
  streams: { name: 'weft_streams_total', type: 'counter', labels: [L.workflow, L.step, L.outcome], help: 'Streams ended, by outcome: completed, failed_before_first_chunk, failed_mid_stream or aborted.' },
  streamChunks: { name: 'weft_stream_chunks', type: 'histogram', labels: [L.workflow, L.step], help: 'Chunks delivered per stream.' },
  streamTokens: { name: 'weft_stream_tokens', type: 'histogram', labels: [L.workflow, L.step], help: 'Tokens delivered per stream, for steps that count them.' },
  cost: { name: 'weft_cost_total', type: 'counter', labels: [L.workflow, L.step, L.model, L.currency], help: 'Cost recorded, in the currency the currency label names.' },
  tokens: { name: 'weft_tokens_total', type: 'counter', labels: [L.workflow, L.step, L.model, L.direction], help: 'Model tokens recorded with costs, by direction (input or output).' },
  budgetUtilisation: { name: 'weft_budget_utilisation_ratio', type: 'gauge', labels: [L.budget, L.scope], help: 'Last reported budget utilisation, spent / limit (1 = exhausted), by scope (run or window); for a budget kept per key, the highest among its active keys that are not exhausted (exhausted keys are counted in weft_budget_keys).' },
  budgetKeys: { name: 'weft_budget_keys', type: 'gauge', labels: [L.budget, L.scope, L.state], help: 'Keys of a budget reported recently (see budgetKeyIdleMs), by state: active (all of them), warning (at or over warnAt, not exhausted) or exhausted.' },
  budgetSpent: { name: 'weft_budget_spent_total', type: 'counter', labels: [L.budget, L.scope], help: 'Spend charged against a budget\'s window, summed over its keys: the burn of each budget, in its currency.' },
  budgetExceeded: { name: 'weft_budget_exceeded_total', type: 'counter', labels: [L.budget, L.scope], help: 'Calls a budget refused because it was exhausted, by scope (run or window).' },
  budgetStoreErrors: { name: 'weft_budget_store_errors_total', type: 'counter', labels: [L.budget, L.operation, L.reason], help: 'Budget store failures, by operation (reserve or charge) and reason (error or timeout).' },
  budgetDegraded: { name: 'weft_budget_degraded_calls_total', type: 'counter', labels: [L.budget, L.decision], help: 'Calls whose budget store was down when they reserved, by decision: open (failOpen let it run), allowance (admitted by the process-local allowance) or refused.' },
  chaosInjections: { name: 'weft_chaos_injections_total', type: 'counter', labels: [L.workflow, L.step, L.fault], help: 'Faults injected by chaos primitives, by fault (error, latency or result).' },
  routes: { name: 'weft_routes_total', type: 'counter', labels: [L.workflow, L.step, L.route, L.reason], help: 'Routes chosen by route primitives, by route and reason.' },
  labelOverflow: { name: 'weft_metrics_label_overflow_total', type: 'counter', labels: [L.label, L.reason], help: 'Label values replaced to bound cardinality: reason too_many_values (became other) or too_long (truncated).' },
  handlerErrors: { name: 'weft_metrics_handler_errors_total', type: 'counter', labels: [L.event], help: 'Events the metrics collector failed to record (the workflow is unaffected).' },
} as const satisfies Record<string, MetricDefinition>;

/**
 * The key of a metric in {@link METRICS}.
 *
 * @example
 * ```ts
 * const key: MetricKey = 'workflowRuns';
 * METRICS[key]; // 'weft_workflow_runs_total'
 * ```
 */
export type MetricKey = keyof typeof METRIC_DEFINITIONS;

type Names = { readonly [K in MetricKey]: (typeof METRIC_DEFINITIONS)[K]['name'] };
type Labels = { readonly [K in MetricKey]: (typeof METRIC_DEFINITIONS)[K]['labels'] };

/**
 * Every metric name, as the collector writes it without a `prefix`. Prometheus conventions:
 * `weft_` prefix, base units (seconds), `_total` on counters, `_ratio` on ratios.
 *
 * @example
 * ```ts
 * import { METRICS } from '@weft/prometheus';
 * const errorRatio = `sum(rate(${METRICS.workflowRuns}{outcome="error"}[5m])) / sum(rate(${METRICS.workflowRuns}[5m]))`;
 * ```
 */
export const METRICS: Names = Object.freeze(Object.fromEntries(Object.entries(METRIC_DEFINITIONS).map(([k, d]) => [k, d.name])) as unknown as Names);

/**
 * The label names of every metric, keyed like {@link METRICS}.
 *
 * @example
 * ```ts
 * import { METRIC_LABELS } from '@weft/prometheus';
 * METRIC_LABELS.stepDuration; // ['workflow', 'step', 'outcome']
 * ```
 */
export const METRIC_LABELS: Labels = Object.freeze(Object.fromEntries(Object.entries(METRIC_DEFINITIONS).map(([k, d]) => [k, d.labels])) as unknown as Labels);

/** Buckets of the per-stream chunk and token histograms (counts, not seconds). */
export const COUNT_BUCKETS: readonly number[] = Object.freeze([1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]);

/**
 * Default histogram buckets, in seconds, for run, step and time-to-first-chunk durations: from 1 ms
 * to 60 s, each at most 1.5x the one before (1.25x to 1.33x from 50 ms to 2.5 s, where provider and model calls land), so a
 * p95 read from them with `histogram_quantile` lands within 10% of the true p95 for the latencies
 * measured here: cache hits of 1-3 ms, simulated providers of 20-80 ms, model calls of 0.8-3 s
 * (the old 2.5 s to 5 s gap read a 0.8-3.0 s provider's p95 as 4.49 s). A test checks that bound.
 *
 * @example
 * ```ts
 * createWeftMetrics({ registry, buckets: [...DEFAULT_BUCKETS, 120] });
 * ```
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5,
  10, 15, 20, 30, 60,
]);

/**
 * Buckets of HTTP request durations, in seconds: from 0.5 ms (a cache hit or a health check is
 * answered in 1-3 ms; most requests were below the old first bucket of 5 ms) to 30 s.
 *
 * @example
 * ```ts
 * new Histogram({ name: 'http_server_request_duration_seconds', help: '...', buckets: [...HTTP_BUCKETS] });
 * ```
 */
export const HTTP_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 30,
]);
