/**
 * The one config behind Weft's dashboards and alerts: selectors, windows, thresholds and objectives.
 * Dashboards draw the same thresholds the alerts fire on, so the two cannot drift.
 */

/** A Prometheus duration such as `5m` or `1h`. */
export type Duration = `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** One alert's timing: how long the condition must hold before it fires. */
export interface AlertTiming {
  /** The rule's `for:`. */
  readonly for: Duration;
}

/** Everything dashboards and alerts are generated from. */
export interface MonitoringConfig {
  /**
   * Label matchers that every alert rule adds to its selectors, without braces: `''` (the default)
   * applies each alert to every service that exports its metric, whatever its scrape job is
   * called; set it (e.g. `'namespace="payments"'`) to narrow the rules to some targets. Dashboards
   * use the `$job` variable instead.
   * @default ''
   */
  readonly selector: string;
  /**
   * Where runbooks are published; an alert's `runbook_url` is this plus `/<alert-file>.md`.
   * @default 'https://github.com/weft-dev/weft/blob/main/alerts/runbooks'
   */
  readonly runbookBaseUrl: string;
  /** Range windows. */
  readonly windows: {
    /** Window of the recording rules and the ratio alerts. @default '5m' */
    readonly rate: Duration;
    /** Window the cost-burn alert averages over. @default '1h' */
    readonly cost: Duration;
    /** Window `predict_linear` fits the budget trend over. @default '1h' */
    readonly budgetTrend: Duration;
    /** Window the compensation-failure alert counts over. @default '15m' */
    readonly compensation: Duration;
  };
  /** Thresholds, each drawn on the panel its alert links to. */
  readonly thresholds: {
    /** Share of workflow runs that failed (outcome `failed`: a fault, not a refusal). @default 0.05 */
    readonly workflowErrorRatio: number;
    /** The p95 run-duration objective, in seconds. @default 2.5 */
    readonly workflowP95Seconds: number;
    /** Share of calls served by a fallback alternative that means the primary is gone. @default 0.5 */
    readonly fallbackRatio: number;
    /** Cache hit ratio below which the cache has collapsed. @default 0.2 */
    readonly cacheHitRatio: number;
    /** Lookups per second a cache needs before its hit ratio is judged. @default 0.1 */
    readonly cacheMinLookupsPerSecond: number;
    /** The cost plan: spend per hour, in the cost's currency, above which the burn alert fires. @default 10 */
    readonly costPlanPerHour: number;
    /** How far ahead budget exhaustion is predicted, in seconds. @default 14400 (4 h) */
    readonly budgetHorizonSeconds: number;
    /** Budget utilisation the dashboard marks as a warning. @default 0.8 */
    readonly budgetWarnUtilisation: number;
    /** Failed compensations tolerated in the compensation window. @default 0 */
    readonly compensationFailures: number;
    /** Jobs waiting in a durable queue above which a growing backlog alerts. @default 100 */
    readonly queueBacklog: number;
    /** The p95 time-to-first-token objective of streams, in seconds. @default 2 */
    readonly streamFirstChunkP95Seconds: number;
  };
  /** How long each condition must hold. */
  readonly alerts: {
    readonly workflowErrorRatio: AlertTiming;
    readonly workflowSlow: AlertTiming;
    /** N in "a circuit open for longer than N minutes". */
    readonly circuitOpen: AlertTiming;
    readonly fallbackRatio: AlertTiming;
    readonly cacheHitRatio: AlertTiming;
    readonly costBurn: AlertTiming;
    readonly budgetExhaustionPredicted: AlertTiming;
    readonly budgetExhausted: AlertTiming;
    readonly compensationFailures: AlertTiming;
    readonly queueBacklog: AlertTiming;
    readonly streamFirstChunkSlow: AlertTiming;
    readonly targetDown: AlertTiming;
  };
  /** Dashboard settings. */
  readonly dashboards: {
    /** Auto-refresh. @default '30s' */
    readonly refresh: string;
    /** Default time range. @default 'now-3h' */
    readonly from: string;
  };
}

/**
 * The shipped config. Change it here and run `npm run generate --workspace @weft/dashboards`.
 *
 * @example
 * ```ts
 * import { CONFIG } from '@weft/dashboards';
 * console.log(CONFIG.thresholds.workflowErrorRatio); // 0.05
 * ```
 */
export const CONFIG = {
  selector: '',
  runbookBaseUrl: 'https://github.com/weft-dev/weft/blob/main/alerts/runbooks',
  windows: { rate: '5m', cost: '1h', budgetTrend: '1h', compensation: '15m' },
  thresholds: {
    workflowErrorRatio: 0.05,
    workflowP95Seconds: 2.5,
    fallbackRatio: 0.5,
    cacheHitRatio: 0.2,
    cacheMinLookupsPerSecond: 0.1,
    costPlanPerHour: 10,
    budgetHorizonSeconds: 4 * 3600,
    budgetWarnUtilisation: 0.8,
    compensationFailures: 0,
    queueBacklog: 100,
    streamFirstChunkP95Seconds: 2,
  },
  alerts: {
    workflowErrorRatio: { for: '10m' },
    workflowSlow: { for: '15m' },
    circuitOpen: { for: '5m' },
    fallbackRatio: { for: '10m' },
    cacheHitRatio: { for: '15m' },
    costBurn: { for: '15m' },
    budgetExhaustionPredicted: { for: '15m' },
    budgetExhausted: { for: '0s' },
    compensationFailures: { for: '0s' },
    queueBacklog: { for: '5m' },
    streamFirstChunkSlow: { for: '10m' },
    targetDown: { for: '2m' },
  },
  dashboards: { refresh: '30s', from: 'now-3h' },
} as const satisfies MonitoringConfig;

/** Parses a Prometheus duration into seconds (`'5m'` is 300). */
export function seconds(duration: Duration): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(duration);
  if (match === null) throw new TypeError(`Expected a Prometheus duration such as "5m", got ${JSON.stringify(duration)}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
