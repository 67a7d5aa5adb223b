/** One series of a metric: its labels and value. */
export interface MetricSeries {
  readonly labels: Partial<Record<string, string | number>>;
  readonly value: number;
}

/** A histogram's observations, over the series that matched. */
export interface HistogramReading {
  readonly count: number;
  readonly sum: number;
  /** Cumulative counts by upper bound (`le`), as Prometheus exposes them. */
  readonly buckets: Readonly<Record<string, number>>;
}

/** Readings of a prom-client registry at one moment; see {@link metricsOf}. */
export interface MetricsReader {
  /** Every metric name in the registry. */
  names(): string[];
  /** The series of a counter or gauge (for a histogram, of its `_count`). */
  series(name: string): MetricSeries[];
  /** A counter's value summed over the series whose labels include `labels`; 0 when none matches (or the metric does not exist). */
  counter(name: string, labels?: Readonly<Record<string, string | number>>): number;
  /** A gauge's value for the one series whose labels include `labels`; undefined when none; throws when several match. */
  gauge(name: string, labels?: Readonly<Record<string, string | number>>): number | undefined;
  /** A histogram's count, sum and buckets over the series whose labels include `labels`. */
  histogram(name: string, labels?: Readonly<Record<string, string | number>>): HistogramReading;
}

/** What metricsOf needs of a prom-client `Registry`. */
export interface MetricsRegistry {
  getMetricsAsJSON(): Promise<ReadonlyArray<{ readonly name: string; readonly type: unknown; readonly values: ReadonlyArray<{ readonly value: number; readonly labels: Partial<Record<string, string | number>>; readonly metricName?: string }> }>>;
}

/**
 * Reads a prom-client registry: counters, gauges and histograms by metric name and labels.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { metricsOf } from '@weft/testing';
 *
 * const registry = new Registry();
 * const m = await metricsOf(registry);
 * console.log(m.counter('weft_workflow_runs_total', { outcome: 'success' })); // 0 before any run
 * ```
 */
export async function metricsOf(registry: MetricsRegistry): Promise<MetricsReader> {
  if (typeof registry !== 'object' || registry === null || typeof registry.getMetricsAsJSON !== 'function') {
    throw new TypeError(`Expected \`registry\` to be a prom-client Registry, got ${registry === null ? 'null' : typeof registry}`);
  }
  const metrics = await registry.getMetricsAsJSON();
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const matching = (name: string, labels: Readonly<Record<string, string | number>> | undefined, suffix?: string) => {
    const m = byName.get(name);
    if (m === undefined) return [];
    return m.values.filter((v) => (suffix === undefined ? v.metricName === undefined || v.metricName === name : v.metricName === `${name}${suffix}`) && includes(v.labels, labels));
  };
  return {
    names: () => [...byName.keys()],
    series: (name) => {
      const m = byName.get(name);
      if (m === undefined) return [];
      const count = m.values.filter((v) => v.metricName === `${name}_count`);
      return (count.length > 0 ? count : m.values).map((v) => ({ labels: v.labels, value: v.value }));
    },
    counter: (name, labels) => matching(name, labels).reduce((sum, v) => sum + v.value, 0),
    gauge: (name, labels) => {
      const found = matching(name, labels);
      if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels ?? {})}: give more labels`);
      return found[0]?.value;
    },
    histogram: (name, labels) => {
      const count = matching(name, labels, '_count').reduce((s, v) => s + v.value, 0);
      const sum = matching(name, labels, '_sum').reduce((s, v) => s + v.value, 0);
      const buckets: Record<string, number> = {};
      for (const b of matching(name, labels, '_bucket')) {
        const le = String(b.labels['le']);
        buckets[le] = (buckets[le] ?? 0) + b.value;
      }
      return { count, sum, buckets };
    },
  };
}

function includes(have: Partial<Record<string, string | number>>, want: Readonly<Record<string, string | number>> | undefined): boolean {
  if (want === undefined) return true;
  for (const [k, v] of Object.entries(want)) if (String(have[k]) !== String(v)) return false;
  return true;
}
