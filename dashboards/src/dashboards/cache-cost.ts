import { LABELS as L, METRICS } from '@weft/prometheus';
import type { MonitoringConfig } from '../config.js';
import type { DashboardSpec } from '../grafana.js';
import { sel, shared } from '../promql.js';
import { BY_STEP, BY_TARGET, BY_WORKFLOW } from './workflows.js';

const RATE = '[$__rate_interval]';

/** Weft: Cache & Cost: cache hit ratio and store errors; spend by workflow and model; budgets. */
export function cacheCostDashboard(config: MonitoringConfig): DashboardSpec {
  const q = shared(config);
  const t = config.thresholds;
  return {
    uid: 'weft-cache-cost',
    title: 'Weft: Cache & Cost',
    description: 'Cache hit ratio and store errors, spend by workflow and model, budget utilisation and its projection.',
    tags: ['weft'],
    version: 1,
    variableSource: { metric: METRICS.workflowRuns, step: METRICS.stepDuration },
    rows: [
      {
        title: 'Cache',
        panels: [
          {
            key: 'cacheHitRatio',
            title: 'Hit ratio by cache',
            description: `Hits / lookups over ${config.windows.rate}, by cache. Below the line (${t.cacheHitRatio * 100}%) with at least ${t.cacheMinLookupsPerSecond} lookups/s, the collapse alert fires.`,
            type: 'timeseries',
            unit: 'percentunit',
            thresholds: [{ value: t.cacheHitRatio, color: 'red' }],
            queries: [{ expr: q.cacheHitRatio(BY_WORKFLOW, L.cache), legend: '{{cache}}' }],
          },
          {
            key: 'cacheLookups',
            title: 'Lookups by result',
            description: 'Cache lookups per second by cache and result: hit, miss, stale or store_error.',
            type: 'timeseries',
            unit: 'ops',
            stack: true,
            queries: [{ expr: q.cacheLookups(BY_WORKFLOW, `${L.cache}, ${L.result}`), legend: '{{cache}} {{result}}' }],
          },
          {
            key: 'storeErrors',
            title: 'Store errors',
            description: 'Failures of the shared stores, per second: cache reads answered as misses, cache writes dropped, budget reserve/charge failures and what became of those calls (let through, admitted by the local allowance, refused), and rate-limit store failures answered from a local bucket.',
            type: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: q.cacheLookups(`${BY_WORKFLOW}, ${L.result}="store_error"`, L.cache), legend: 'cache {{cache}} read' },
              { expr: `sum by (${L.cache}, ${L.reason}) (rate(${METRICS.cacheSetFailures}${sel(BY_WORKFLOW)}${RATE}))`, legend: 'cache {{cache}} write: {{reason}}' },
              { expr: `sum by (${L.budget}, ${L.operation}, ${L.reason}) (rate(${METRICS.budgetStoreErrors}${sel(BY_TARGET)}${RATE}))`, legend: 'budget {{budget}} {{operation}}: {{reason}}' },
              { expr: `sum by (${L.limiter}, ${L.reason}) (rate(${METRICS.rateLimitStoreErrors}${sel(BY_TARGET)}${RATE}))`, legend: 'rate limit {{limiter}}: {{reason}}' },
              { expr: `sum by (${L.budget}, ${L.decision}) (rate(${METRICS.budgetDegraded}${sel(BY_TARGET)}${RATE}))`, legend: 'budget {{budget}} store down, call {{decision}}' },
            ],
          },
        ],
      },
      {
        title: 'Cost',
        panels: [
          {
            key: 'costRate',
            title: 'Cost rate by workflow and model',
            description: `Spend per hour, averaged over ${config.windows.cost}, by workflow, model and currency.`,
            type: 'timeseries',
            unit: 'currencyUSD',
            stack: true,
            queries: [{ expr: q.costPerHour(BY_WORKFLOW, `${L.workflow}, ${L.model}, ${L.currency}`), legend: '{{workflow}} {{model}} ({{currency}})' }],
          },
          {
            key: 'costBurn',
            title: 'Total cost rate against plan',
            description: `Spend per hour, averaged over ${config.windows.cost}, by currency. The line is the plan, ${t.costPlanPerHour} per hour: above it the burn alert fires.`,
            type: 'timeseries',
            unit: 'currencyUSD',
            thresholds: [{ value: t.costPlanPerHour, color: 'red' }],
            queries: [{ expr: q.costPerHour(BY_WORKFLOW, L.currency), legend: 'spend/h ({{currency}})' }],
          },
          {
            key: 'tokens',
            title: 'Tokens by model',
            description: 'Model tokens per second, by model and direction (input or output).',
            type: 'timeseries',
            unit: 'short',
            queries: [{ expr: `sum by (${L.model}, ${L.direction}) (rate(${METRICS.tokens}${sel(BY_STEP)}${RATE}))`, legend: '{{model}} {{direction}}' }],
          },
        ],
      },
      {
        title: 'Budgets',
        panels: [
          {
            key: 'budgetUtilisation',
            title: 'Budget utilisation',
            description: `Last reported spent / limit, by budget and scope; for a budget kept per key, the highest among its active keys that are not yet exhausted (exhausted keys are counted beside). At the red line (100%) calls are refused; orange marks ${t.budgetWarnUtilisation * 100}%.`,
            type: 'timeseries',
            unit: 'percentunit',
            thresholds: [
              { value: t.budgetWarnUtilisation, color: 'orange' },
              { value: 1, color: 'red' },
            ],
            queries: [{ expr: `max by (${L.budget}, ${L.scope}) (${METRICS.budgetUtilisation}${sel(BY_TARGET)})`, legend: '{{budget}} ({{scope}})' }],
          },
          {
            key: 'spendProjection',
            title: 'Spend projection',
            description: `Budget utilisation projected ${t.budgetHorizonSeconds / 3600} h ahead from its trend over ${config.windows.budgetTrend} (the exhaustion alert fires when it crosses 100% before the budget is spent).`,
            type: 'timeseries',
            unit: 'percentunit',
            thresholds: [{ value: 1, color: 'red' }],
            queries: [{ expr: `max by (${L.budget}) (${q.budgetProjected(BY_TARGET)})`, legend: '{{budget}} in ' + t.budgetHorizonSeconds / 3600 + ' h' }],
          },
          {
            key: 'spendNextDay',
            title: 'Projected spend, next 24 h',
            description: `Spend per hour averaged over ${config.windows.cost}, times 24: what the next day costs if nothing changes.`,
            type: 'stat',
            unit: 'currencyUSD',
            thresholds: [{ value: t.costPlanPerHour * 24, color: 'red' }],
            queries: [{ expr: `${q.costPerHour(BY_WORKFLOW, L.currency)} * 24`, legend: '{{currency}}' }],
          },
          {
            key: 'budgetKeys',
            title: 'Keys over the warning line and exhausted',
            description: 'For each budget, how many of its recently active keys are at or over their warning line, and how many are exhausted (refused until spend ages out). No key is ever a label: per-key figures are in the logs and spans.',
            type: 'timeseries',
            unit: 'short',
            queries: [
              { expr: `max by (${L.budget}) (${METRICS.budgetKeys}${sel(BY_TARGET, `${L.scope}="window"`, `${L.state}="warning"`)})`, legend: '{{budget}} warning' },
              { expr: `max by (${L.budget}) (${METRICS.budgetKeys}${sel(BY_TARGET, `${L.scope}="window"`, `${L.state}="exhausted"`)})`, legend: '{{budget}} exhausted' },
            ],
          },
          {
            key: 'budgetBurn',
            title: 'Budget burn',
            description: `Spend charged against each budget, per hour, summed over its keys and instances (averaged over ${config.windows.rate}).`,
            type: 'timeseries',
            unit: 'currencyUSD',
            queries: [{ expr: `sum by (${L.budget}) (rate(${METRICS.budgetSpent}${sel(BY_TARGET)}[${config.windows.rate}])) * 3600`, legend: '{{budget}} per hour' }],
          },
          {
            key: 'budgetRefusals',
            title: 'Budget refusals',
            description: 'Calls per second a budget refused because it was exhausted, by budget and scope.',
            type: 'timeseries',
            unit: 'ops',
            width: 24,
            queries: [{ expr: `sum by (${L.budget}, ${L.scope}) (rate(${METRICS.budgetExceeded}${sel(BY_TARGET)}${RATE}))`, legend: '{{budget}} ({{scope}})' }],
          },
        ],
      },
    ],
  };
}
