import { METRICS } from '@weft/prometheus';
import type { MonitoringConfig } from '../config.js';
import type { DashboardSpec } from '../grafana.js';
import { SERVICE_METRICS as S, sel, UP } from '../promql.js';
import { BY_TARGET } from './workflows.js';

const RATE = '[$__rate_interval]';

/** Weft: Service: the service's HTTP traffic, process resources and whether Prometheus reaches it. */
export function serviceDashboard(config: MonitoringConfig): DashboardSpec {
  const http = (extra = '') => `${S.httpRequests}${sel(BY_TARGET, extra)}`;
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (route, le) (rate(${S.httpRequestDuration}_bucket${sel(BY_TARGET)}${RATE})))`;
  return {
    uid: 'weft-service',
    title: 'Weft: Service',
    description: 'HTTP rate, errors and latency of a service hosting Weft workflows (the gateway), its CPU, memory and event-loop lag, and whether Prometheus can scrape it.',
    tags: ['weft'],
    version: 1,
    variableSource: { metric: S.httpRequests, step: METRICS.stepDuration },
    rows: [
      {
        title: 'HTTP',
        panels: [
          {
            key: 'httpRate',
            title: 'Requests by route and status',
            description: 'HTTP requests answered per second, by route and status code.',
            type: 'timeseries',
            unit: 'reqps',
            stack: true,
            queries: [{ expr: `sum by (route, status) (rate(${http()}${RATE}))`, legend: '{{route}} {{status}}' }],
          },
          {
            key: 'httpErrors',
            title: 'Server error ratio',
            description: `Share of requests answered with a 5xx status or abandoned by their client before the answer (499: in a brownout those are the slowest requests), by route. The error-ratio threshold, ${config.thresholds.workflowErrorRatio * 100}%, is drawn for scale.`,
            type: 'timeseries',
            unit: 'percentunit',
            thresholds: [{ value: config.thresholds.workflowErrorRatio, color: 'red' }],
            queries: [
              {
                expr: `(sum by (route) (rate(${http('status=~"5..|499"')}${RATE})) or 0 * sum by (route) (rate(${http()}${RATE}))) / sum by (route) (rate(${http()}${RATE}))`,
                legend: '{{route}}',
              },
            ],
          },
          {
            key: 'httpLatency',
            title: 'Latency p50 / p95 / p99 by route',
            description: 'Quantiles of HTTP request duration from the histogram buckets, by route.',
            type: 'timeseries',
            unit: 's',
            queries: [
              { expr: quantile(0.5), legend: '{{route}} p50' },
              { expr: quantile(0.95), legend: '{{route}} p95' },
              { expr: quantile(0.99), legend: '{{route}} p99' },
            ],
          },
        ],
      },
      {
        title: 'Process',
        panels: [
          {
            key: 'cpu',
            title: 'CPU',
            description: 'CPU seconds used per second by each instance (1 = one core busy).',
            type: 'timeseries',
            unit: 'percentunit',
            queries: [{ expr: `sum by (instance) (rate(${S.cpuSeconds}${sel(BY_TARGET)}${RATE}))`, legend: '{{instance}}' }],
          },
          {
            key: 'memory',
            title: 'Memory',
            description: 'Resident memory and V8 heap in use, by instance.',
            type: 'timeseries',
            unit: 'bytes',
            queries: [
              { expr: `sum by (instance) (${S.residentMemory}${sel(BY_TARGET)})`, legend: '{{instance}} resident' },
              { expr: `sum by (instance) (${S.heapUsed}${sel(BY_TARGET)})`, legend: '{{instance}} heap used' },
            ],
          },
          {
            key: 'eventLoopLag',
            title: 'Event-loop lag',
            description: 'How late the event loop runs timers: p99 and mean over the last sampling period, by instance. Sustained lag delays every request.',
            type: 'timeseries',
            unit: 's',
            queries: [
              { expr: `max by (instance) (${S.eventLoopLagP99}${sel(BY_TARGET)})`, legend: '{{instance}} p99' },
              { expr: `max by (instance) (${S.eventLoopLagMean}${sel(BY_TARGET)})`, legend: '{{instance}} mean' },
            ],
          },
          {
            key: 'up',
            title: 'Up (scraped by Prometheus)',
            description: 'Whether Prometheus scraped each instance at its last attempt: 1 up, 0 down. The target-down alert fires after ' + config.alerts.targetDown.for + ' at 0.',
            type: 'state-timeline',
            width: 24,
            height: 5,
            mappings: [
              { value: 0, text: 'down', color: 'red' },
              { value: 1, text: 'up', color: 'green' },
            ],
            queries: [{ expr: `max by (instance) (${UP}${sel(BY_TARGET)})`, legend: '{{instance}}' }],
          },
        ],
      },
    ],
  };
}
