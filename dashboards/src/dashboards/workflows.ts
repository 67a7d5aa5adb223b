import { LABELS as L, METRICS, QUEUE_METRICS as QM } from '@weft/prometheus';
import type { MonitoringConfig } from '../config.js';
import type { DashboardSpec } from '../grafana.js';
import { recordNames, sel, shared } from '../promql.js';

/** Matchers of the job and instance variables. */
export const BY_TARGET = 'job=~"$job", instance=~"$instance"';
/** Matchers of the job, instance and workflow variables. */
export const BY_WORKFLOW = `${BY_TARGET}, ${L.workflow}=~"$workflow"`;
/** Matchers of every variable. */
export const BY_STEP = `${BY_WORKFLOW}, ${L.step}=~"$step"`;

const RATE = '[$__rate_interval]';

/**
 * Weft: Workflows: runs, errors and durations by workflow, step latency, and what the resilience
 * primitives did (retries, timeouts, fallbacks, hedges, circuits, bulkheads, rate limits, sagas).
 */
export function workflowsDashboard(config: MonitoringConfig): DashboardSpec {
  const r = recordNames(config.windows.rate);
  const q = shared(config);
  const t = config.thresholds;
  return {
    uid: 'weft-workflows',
    title: 'Weft: Workflows',
    description: "Runs, errors and durations of Weft workflows, and what each resilience primitive did. Generated from @weft/prometheus's metric names.",
    tags: ['weft'],
    version: 1,
    variableSource: { metric: METRICS.workflowRuns, step: METRICS.stepDuration },
    rows: [
      {
        title: 'Runs',
        panels: [
          {
            key: 'runRate',
            title: 'Run rate by workflow',
            description: 'Workflow runs finished per second, by workflow and outcome.',
            type: 'timeseries',
            unit: 'reqps',
            queries: [{ expr: `sum by (${L.workflow}, ${L.outcome}) (${r.runs}${sel(BY_WORKFLOW)})`, legend: '{{workflow}} {{outcome}}' }],
          },
          {
            key: 'errorRatio',
            title: 'Error ratio by workflow',
            description: `Share of runs that failed: a fault of the service or what it depends on. Refusals by design (bad input, rate limits, budgets, declined cards) end rejected and are shown apart. The line is the alert threshold, ${t.workflowErrorRatio * 100}%.`,
            type: 'timeseries',
            unit: 'percentunit',
            thresholds: [{ value: t.workflowErrorRatio, color: 'red' }],
            queries: [{ expr: q.errorRatio(BY_WORKFLOW, L.workflow), legend: '{{workflow}}' }],
          },
          {
            key: 'refusals',
            title: 'Refusals by workflow',
            description: 'Share of runs refused by design (outcome rejected: bad input, a rate limit, a spent budget, a declined card). Not a fault: a rise means callers are being turned away, not that the service is failing.',
            type: 'timeseries',
            unit: 'percentunit',
            queries: [{ expr: q.rejectedRatio(BY_WORKFLOW, L.workflow), legend: '{{workflow}}' }],
          },
          {
            key: 'errorsByKind',
            title: 'Errors by kind',
            description: 'Runs per second that ended with an error, by workflow and Weft error code: failures and refusals both (rate_limited, budget_exceeded and validation are refusals).',
            type: 'timeseries',
            unit: 'reqps',
            stack: true,
            queries: [{ expr: `sum by (${L.workflow}, ${L.error}) (${r.errors}${sel(BY_WORKFLOW)})`, legend: '{{workflow}} {{error}}' }],
          },
          {
            key: 'runDuration',
            title: 'Run duration p50 / p95 / p99 by workflow',
            description: `Quantiles of the duration of served (succeeded) runs, from the histogram buckets: refusals, which end at once, are left out. The line is the p95 objective, ${t.workflowP95Seconds} s.`,
            type: 'timeseries',
            unit: 's',
            width: 24,
            thresholds: [{ value: t.workflowP95Seconds, color: 'red' }],
            queries: [
              { expr: q.runQuantile(0.5, BY_WORKFLOW, L.workflow), legend: '{{workflow}} p50' },
              { expr: q.runQuantile(0.95, BY_WORKFLOW, L.workflow), legend: '{{workflow}} p95' },
              { expr: q.runQuantile(0.99, BY_WORKFLOW, L.workflow), legend: '{{workflow}} p99' },
            ],
          },
        ],
      },
      {
        title: 'Steps',
        panels: [
          {
            key: 'stepLatency',
            title: 'Step latency: $step',
            description: 'How long each call of the step took (every attempt counts), as a heatmap of histogram buckets. One panel per selected step.',
            type: 'heatmap',
            unit: 's',
            repeat: 'step',
            queries: [{ expr: `sum by (le) (rate(${METRICS.stepDuration}_bucket${sel(BY_STEP)}${RATE}))`, legend: '{{le}}', format: 'heatmap' }],
          },
          {
            key: 'stepErrors',
            title: 'Step errors by kind',
            description: 'Failed step calls per second, by step and Weft error code.',
            type: 'timeseries',
            unit: 'ops',
            width: 24,
            queries: [{ expr: `sum by (${L.step}, ${L.error}) (rate(${METRICS.stepErrors}${sel(BY_STEP)}${RATE}))`, legend: '{{step}} {{error}}' }],
          },
        ],
      },
      {
        title: 'Resilience',
        panels: [
          {
            key: 'retries',
            title: 'Retries and give-ups',
            description: 'Retries scheduled per second by step; retried calls that gave up (exhausted, deadline, not_retryable); and, apart, retried calls cancelled from outside: a hedge that lost, a failed sibling, a caller that gave up.',
            type: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: `sum by (${L.step}) (rate(${METRICS.retries}${sel(BY_STEP)}${RATE}))`, legend: '{{step}} retried' },
              { expr: `sum by (${L.step}, ${L.reason}) (rate(${METRICS.retryGaveUp}${sel(BY_STEP, `${L.reason}=~"exhausted|deadline|not_retryable"`)}${RATE}))`, legend: '{{step}} gave up: {{reason}}' },
              { expr: `sum by (${L.step}, ${L.reason}) (rate(${METRICS.retryGaveUp}${sel(BY_STEP, `${L.reason}=~"hedge_lost|cancelled|aborted"`)}${RATE}))`, legend: '{{step}} cancelled: {{reason}}' },
            ],
          },
          {
            key: 'timeouts',
            title: 'Timeouts',
            description: 'Calls per second whose timeout expired, by step.',
            type: 'timeseries',
            unit: 'ops',
            queries: [{ expr: `sum by (${L.step}) (rate(${METRICS.timeouts}${sel(BY_STEP)}${RATE}))`, legend: '{{step}}' }],
          },
          {
            key: 'fallbacks',
            title: 'Fallbacks served, by alternative',
            description: 'Calls per second a fallback alternative served instead of the primary step (alternative 1 is the first), and calls where every alternative failed too.',
            type: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: `sum by (${L.step}, ${L.alternative}) (rate(${METRICS.fallbacks}${sel(BY_STEP)}${RATE}))`, legend: '{{step}} served by alternative {{alternative}}' },
              { expr: `sum by (${L.step}) (rate(${METRICS.fallbackExhausted}${sel(BY_STEP)}${RATE}))`, legend: '{{step}} exhausted' },
            ],
          },
          {
            key: 'fallbackRatio',
            title: 'Share served by a fallback',
            description: `Fallbacks served / (fallbacks served + the primary's successful calls), by primary step. The line, ${t.fallbackRatio * 100}%, is where the alert says the primary is gone.`,
            type: 'timeseries',
            unit: 'percentunit',
            thresholds: [{ value: t.fallbackRatio, color: 'red' }],
            queries: [{ expr: q.fallbackRatio(BY_STEP, `${L.workflow}, ${L.step}`, config.windows.rate), legend: '{{workflow}} {{step}}' }],
          },
          {
            key: 'hedges',
            title: 'Hedges',
            description: 'Extra hedged attempts started per second, by step and trigger, and hedged calls an extra attempt won.',
            type: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: `sum by (${L.step}, ${L.trigger}) (rate(${METRICS.hedgesStarted}${sel(BY_STEP)}${RATE}))`, legend: '{{step}} started ({{trigger}})' },
              { expr: `sum by (${L.step}) (rate(${METRICS.hedgesWon}${sel(BY_STEP)}${RATE}))`, legend: '{{step}} won by a hedge' },
            ],
          },
          {
            key: 'circuitState',
            title: 'Circuit state',
            description: 'Each breaker over time: closed, half-open, open, or isolated by hand. A breaker appears after its first transition. The alert fires when one stays open or half-open for ' + config.alerts.circuitOpen.for + '.',
            type: 'state-timeline',
            width: 16,
            mappings: [
              { value: 0, text: 'closed', color: 'green' },
              { value: 1, text: 'half-open', color: 'orange' },
              { value: 2, text: 'open', color: 'red' },
              { value: 3, text: 'isolated', color: 'purple' },
            ],
            queries: [
              {
                expr: `max by (${L.breaker}) (${METRICS.circuitState}${sel(BY_TARGET, `${L.state}="half-open"`)}) + 2 * max by (${L.breaker}) (${METRICS.circuitState}${sel(BY_TARGET, `${L.state}="open"`)}) + 3 * max by (${L.breaker}) (${METRICS.circuitState}${sel(BY_TARGET, `${L.state}="isolated"`)})`,
                legend: '{{breaker}}',
              },
            ],
          },
          {
            key: 'circuitRejections',
            title: 'Circuit transitions and rejections',
            description: 'State changes per second, by breaker and new state, and calls rejected by a breaker.',
            type: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: `sum by (${L.breaker}, ${L.to}) (rate(${METRICS.circuitTransitions}${sel(BY_TARGET)}${RATE}))`, legend: '{{breaker}} to {{to}}' },
              { expr: `sum by (${L.breaker}, ${L.state}) (rate(${METRICS.circuitRejections}${sel(BY_WORKFLOW)}${RATE}))`, legend: '{{breaker}} rejected while {{state}}' },
            ],
          },
          {
            key: 'rejections',
            title: 'Bulkhead and rate-limit rejections',
            description: 'Calls per second rejected because every bulkhead slot and queue place was taken, or because a rate limiter had no token.',
            type: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: `sum by (${L.bulkhead}) (rate(${METRICS.bulkheadRejections}${sel(BY_WORKFLOW)}${RATE}))`, legend: 'bulkhead {{bulkhead}}' },
              { expr: `sum by (${L.limiter}) (rate(${METRICS.rateLimitRejections}${sel(BY_WORKFLOW)}${RATE}))`, legend: 'rate limit {{limiter}}' },
            ],
          },
          {
            key: 'sagas',
            title: 'Saga outcomes',
            description: 'Finished sagas per second by outcome (completed, compensated, compensation_failed), and compensations run, by step and outcome.',
            type: 'timeseries',
            unit: 'ops',
            width: 16,
            queries: [
              { expr: `sum by (${L.saga}, ${L.outcome}) (rate(${METRICS.sagas}${sel(BY_WORKFLOW)}${RATE}))`, legend: '{{saga}} {{outcome}}' },
              { expr: `sum by (${L.saga}, ${L.step}, ${L.outcome}) (rate(${METRICS.sagaCompensations}${sel(BY_WORKFLOW)}${RATE}))`, legend: '{{saga}} compensate {{step}}: {{outcome}}' },
            ],
          },
        ],
      },
      {
        title: 'Streams',
        panels: [
          {
            key: 'streamFirstChunk',
            title: 'Time to first chunk',
            description: `p50 and p95 time from a streaming step's call to its first chunk (time to first token), by step. The line is the alert objective, ${t.streamFirstChunkP95Seconds} s at p95.`,
            type: 'timeseries',
            unit: 's',
            thresholds: [{ value: t.streamFirstChunkP95Seconds, color: 'red' }],
            queries: [
              { expr: `histogram_quantile(0.95, sum by (${L.step}, le) (rate(${METRICS.streamTimeToFirstChunk}_bucket${sel(BY_WORKFLOW)}${RATE})))`, legend: '{{step}} p95' },
              { expr: `histogram_quantile(0.5, sum by (${L.step}, le) (rate(${METRICS.streamTimeToFirstChunk}_bucket${sel(BY_WORKFLOW)}${RATE})))`, legend: '{{step}} p50' },
            ],
          },
          {
            key: 'streamOutcomes',
            title: 'Streams by outcome',
            description: 'Streams ended per second: completed, failed before the first chunk (a retry or fallback may still answer), failed mid-stream (the client saw part of an answer) or aborted (the client went away, or a timeout fired).',
            type: 'timeseries',
            unit: 'ops',
            stack: true,
            queries: [{ expr: `sum by (${L.step}, ${L.outcome}) (rate(${METRICS.streams}${sel(BY_WORKFLOW)}${RATE}))`, legend: '{{step}} {{outcome}}' }],
          },
          {
            key: 'streamSize',
            title: 'Chunks and tokens per stream',
            description: 'Average chunks and tokens delivered per stream, by step.',
            type: 'timeseries',
            unit: 'short',
            queries: [
              { expr: `sum by (${L.step}) (rate(${METRICS.streamChunks}_sum${sel(BY_WORKFLOW)}${RATE})) / sum by (${L.step}) (rate(${METRICS.streamChunks}_count${sel(BY_WORKFLOW)}${RATE}))`, legend: '{{step}} chunks' },
              { expr: `sum by (${L.step}) (rate(${METRICS.streamTokens}_sum${sel(BY_WORKFLOW)}${RATE})) / sum by (${L.step}) (rate(${METRICS.streamTokens}_count${sel(BY_WORKFLOW)}${RATE}))`, legend: '{{step}} tokens' },
            ],
          },
        ],
      },
      {
        title: 'Durable queues',
        panels: [
          {
            key: 'queueBacklog',
            title: 'Queue backlog',
            description: `Jobs by state in each durable queue (BullMQ): waiting, prioritized, delayed (backing off before a retry) and active. Every instance reports the same shared counts, so the panel takes the highest. The line is the backlog alert threshold, ${t.queueBacklog} waiting jobs.`,
            type: 'timeseries',
            unit: 'short',
            thresholds: [{ value: t.queueBacklog, color: 'red' }],
            queries: [{ expr: `max by (queue, ${L.state}) (${QM.jobs}${sel(`${BY_TARGET}, ${L.state}=~"waiting|prioritized|delayed|active"`)})`, legend: '{{queue}} {{state}}' }],
          },
          {
            key: 'queueOutcomes',
            title: 'Job outcomes and stalls',
            description: "Job attempts finished per second: completed, settled (the workflow's own refusal, recorded and not retried), retried and failed for good (into the dead-letter queue); and jobs taken back from a worker that died or stalled.",
            type: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: `sum by (queue, ${L.outcome}) (rate(${QM.jobsTotal}${sel(BY_TARGET)}${RATE}))`, legend: '{{queue}} {{outcome}}' },
              { expr: `sum by (queue) (rate(${QM.stalled}${sel(BY_TARGET)}${RATE}))`, legend: '{{queue}} stalled' },
            ],
          },
          {
            key: 'queueDeadLetters',
            title: 'Dead-letter queue',
            description: 'Jobs that failed for good and wait in the failed set to be inspected and replayed.',
            type: 'timeseries',
            unit: 'short',
            queries: [{ expr: `max by (queue) (${QM.jobs}${sel(`${BY_TARGET}, ${L.state}="failed"`)})`, legend: '{{queue}}' }],
          },
          {
            key: 'queueDuration',
            title: 'Job duration p95 and saga takeovers',
            description: "The 95th percentile of job attempt durations by queue, and saga executions taken over from a dead instance (resumed forward or compensated) per second.",
            type: 'timeseries',
            unit: 's',
            queries: [
              { expr: `histogram_quantile(0.95, sum by (queue, le) (rate(${QM.jobDuration}_bucket${sel(BY_TARGET)}${RATE})))`, legend: '{{queue}} p95' },
              { expr: `sum by (${L.saga}, ${L.direction}) (rate(${METRICS.sagaTakeovers}${sel(BY_WORKFLOW)}${RATE}))`, legend: '{{saga}} takeovers ({{direction}})' },
            ],
          },
        ],
      },
    ],
  };
}
