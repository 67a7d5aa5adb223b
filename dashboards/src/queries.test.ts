import { LABELS, METRIC_DEFINITIONS, QUEUE_METRICS } from '@weft/prometheus';
import { describe, expect, it } from 'vitest';
import { alertSpecs } from './alerts/alerts.js';
import { CONFIG } from './config.js';
import { dashboardSpecs } from './dashboards/index.js';
import { panelQueries } from './test-support/panel-queries.js';
import { metricNamesIn } from './test-support/promql-names.js';
import { recordingRules, SERVICE_METRICS, UP } from './promql.js';

/** Every series name a query may read: Weft's (with histogram suffixes), the recording rules, the service's. */
const allowed = new Set<string>([
  ...Object.values(METRIC_DEFINITIONS).flatMap((d) => (d.type === 'histogram' ? [`${d.name}_bucket`, `${d.name}_count`, `${d.name}_sum`] : [d.name])),
  ...recordingRules(CONFIG).map((r) => r.record),
  ...Object.values(QUEUE_METRICS).flatMap((n) => (n.endsWith('_seconds') ? [`${n}_bucket`, `${n}_count`, `${n}_sum`] : [n])),
  ...Object.values(SERVICE_METRICS).flatMap((n) => (n.endsWith('_seconds') && n.startsWith('http_') ? [`${n}_bucket`, `${n}_count`, `${n}_sum`] : [n])),
  UP,
]);

describe('metric names', () => {
  it('finds the names a query reads, and not its functions, labels or durations', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (workflow, le) (rate(weft_x_bucket{job=~"$job", le!="1"}[5m]))) > 2.5 and on (job) up == 1')).toEqual(['weft_x_bucket', 'up']);
    expect(metricNamesIn('predict_linear(a:b:rate5m{scope="window"}[1h], 14400) or 0 * sum without (instance) (c_total)')).toEqual(['a:b:rate5m', 'c_total']);
  });

  it('every panel query reads only metrics @weft/prometheus defines, recording rules, or the service metrics the gateway exports', () => {
    const queries = dashboardSpecs(CONFIG).flatMap(({ spec }) => panelQueries(spec));
    expect(queries.length).toBeGreaterThan(30);
    const unknown = queries.flatMap((q) => metricNamesIn(q.expr).filter((n) => !allowed.has(n)).map((n) => `${q.dashboard} / ${q.panel}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('every alert and recording rule reads only those metrics too', () => {
    const exprs = [...alertSpecs(CONFIG).map((a) => a.expr), ...recordingRules(CONFIG).map((r) => r.expr)];
    expect(exprs.flatMap((e) => metricNamesIn(e).filter((n) => !allowed.has(n)))).toEqual([]);
  });

  it('every label a panel groups by is one @weft/prometheus defines or one Prometheus and the service add', () => {
    const known = new Set<string>([...Object.values(LABELS), 'job', 'instance', 'le', 'route', 'status', 'method', 'queue']);
    const queries = dashboardSpecs(CONFIG).flatMap(({ spec }) => panelQueries(spec));
    const grouped = queries.flatMap((q) => [...q.expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean)));
    expect(grouped.filter((l) => !known.has(l))).toEqual([]);
  });
});
