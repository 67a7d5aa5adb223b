/**
 * The PromQL both the dashboards and the alerts are built from. Every metric name comes from
 * `@weft/prometheus`'s constants; the recording rules are defined here too, so a panel and the alert
 * that links to it evaluate the same expression.
 */
import { LABELS as L, METRICS } from '@weft/prometheus';
import type { MonitoringConfig } from './config.js';

/** Process and HTTP metrics the gateway exports beside Weft's (prom-client defaults and its own). */
export const SERVICE_METRICS = {
  httpRequests: 'http_server_requests_total',
  httpRequestDuration: 'http_server_request_duration_seconds',
  cpuSeconds: 'process_cpu_seconds_total',
  residentMemory: 'process_resident_memory_bytes',
  heapUsed: 'nodejs_heap_size_used_bytes',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  eventLoopLagMean: 'nodejs_eventloop_lag_mean_seconds',
} as const;

/** The series Prometheus writes for every target. */
export const UP = 'up';

/** Joins label matchers into a selector, dropping empty ones: `sel('a="1"', '', 'b="2"')`; `''` when none are left. */
export function sel(...matchers: string[]): string {
  const kept = matchers.filter((m) => m.trim() !== '');
  return kept.length === 0 ? '' : `{${kept.join(', ')}}`;
}

/** A counter's name without `_total`, as recording-rule names write it. */
function base(counter: string): string {
  return counter.replace(/_total$/, '');
}

/** Names of the recording rules for a rate window. */
export function recordNames(window: string) {
  return {
    runs: `job_instance_workflow_outcome:${base(METRICS.workflowRuns)}:rate${window}`,
    errors: `job_instance_workflow_error:${base(METRICS.workflowErrors)}:rate${window}`,
    runDurationBuckets: `job_instance_workflow_le:${METRICS.workflowRunDuration}_bucket:rate${window}`,
    cacheRequests: `job_instance_workflow_cache_result:${base(METRICS.cacheRequests)}:rate${window}`,
    cost: `job_instance_workflow_model_currency:${base(METRICS.cost)}:rate${window}`,
  } as const;
}

/** A recording rule: its name, expression and the raw metric it reads. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

/**
 * The recording rules: per-job, per-instance rates that the dashboards and alerts share, so a
 * dashboard refresh reads a few pre-aggregated series instead of every raw one.
 */
export function recordingRules(config: MonitoringConfig): RecordingRule[] {
  const w = config.windows.rate;
  const r = recordNames(w);
  return [
    { record: r.runs, expr: `sum by (job, instance, ${L.workflow}, ${L.outcome}) (rate(${METRICS.workflowRuns}[${w}]))` },
    { record: r.errors, expr: `sum by (job, instance, ${L.workflow}, ${L.error}) (rate(${METRICS.workflowErrors}[${w}]))` },
    // Served runs only: instant refusals would make a service look faster the more it refuses.
    { record: r.runDurationBuckets, expr: `sum by (job, instance, ${L.workflow}, le) (rate(${METRICS.workflowRunDuration}_bucket{${L.outcome}="succeeded"}[${w}]))` },
    { record: r.cacheRequests, expr: `sum by (job, instance, ${L.workflow}, ${L.cache}, ${L.result}) (rate(${METRICS.cacheRequests}[${w}]))` },
    { record: r.cost, expr: `sum by (job, instance, ${L.workflow}, ${L.model}, ${L.currency}) (rate(${METRICS.cost}[${w}]))` },
  ];
}

/** Expressions shared by a panel and an alert. `s` is a selector body's matchers (no braces). */
export function shared(config: MonitoringConfig) {
  const r = recordNames(config.windows.rate);
  const t = config.thresholds;
  return {
    /** Share of runs that failed (a fault; refusals are `rejected` and left out), by `by` labels; 0 when none failed. */
    errorRatio: (s: string, by: string) =>
      `(sum by (${by}) (${r.runs}${sel(s, `${L.outcome}="failed"`)}) or 0 * sum by (${by}) (${r.runs}${sel(s)})) / sum by (${by}) (${r.runs}${sel(s)})`,
    /** Share of runs refused by design (outcome `rejected`), by `by` labels. */
    rejectedRatio: (s: string, by: string) =>
      `(sum by (${by}) (${r.runs}${sel(s, `${L.outcome}="rejected"`)}) or 0 * sum by (${by}) (${r.runs}${sel(s)})) / sum by (${by}) (${r.runs}${sel(s)})`,
    /** A quantile of the duration of served (succeeded) runs, by `by` labels. */
    runQuantile: (q: number, s: string, by: string) => `histogram_quantile(${q}, sum by (${by}, le) (${r.runDurationBuckets}${sel(s)}))`,
    /** 1 while a breaker is open or half-open (not yet recovered), 0 while closed or isolated on purpose. */
    circuitNotRecovered: (s: string, by: string) => `max by (${by}) (${METRICS.circuitState}${sel(s, `${L.state}=~"open|half-open"`)})`,
    /**
     * Share of calls that a fallback alternative served rather than the primary: fallbacks served
     * over (fallbacks served + the primary step's successful calls), by workflow and step.
     */
    fallbackRatio: (s: string, by: string, window: string) =>
      `sum by (${by}) (rate(${METRICS.fallbacks}${sel(s)}[${window}])) / (sum by (${by}) (rate(${METRICS.fallbacks}${sel(s)}[${window}])) + (sum by (${by}) (rate(${METRICS.stepDuration}_count${sel(s, `${L.outcome}="success"`)}[${window}])) or 0 * sum by (${by}) (rate(${METRICS.fallbacks}${sel(s)}[${window}]))))`,
    /** Cache hit ratio by `by` labels; 0 when every lookup missed. */
    cacheHitRatio: (s: string, by: string) =>
      `(sum by (${by}) (${r.cacheRequests}${sel(s, `${L.result}="hit"`)}) or 0 * sum by (${by}) (${r.cacheRequests}${sel(s)})) / sum by (${by}) (${r.cacheRequests}${sel(s)})`,
    /** Cache lookups per second by `by` labels. */
    cacheLookups: (s: string, by: string) => `sum by (${by}) (${r.cacheRequests}${sel(s)})`,
    /** Spend per hour over the cost window, by `by` labels. */
    costPerHour: (s: string, by: string) => `sum by (${by}) (rate(${METRICS.cost}${sel(s)}[${config.windows.cost}])) * 3600`,
    /** Budget utilisation projected `budgetHorizonSeconds` ahead from the trend over the trend window. */
    budgetProjected: (s: string) => `predict_linear(${METRICS.budgetUtilisation}${sel(s, `${L.scope}="window"`)}[${config.windows.budgetTrend}], ${t.budgetHorizonSeconds})`,
  };
}
