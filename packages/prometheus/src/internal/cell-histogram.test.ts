import { Histogram, Registry, type OpenMetricsContentType, type RegistryContentType } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CellHistogram } from './cell-histogram.js';
import { DEFAULT_BUCKETS } from '../metric-names.js';
import { seededRandom } from '../test-support/seeded-random.js';

afterEach(() => {
  vi.useRealTimers();
});

const LABELS = ['workflow', 'step', 'outcome'] as const;
const SERIES = [
  ['checkout', 'charge', 'success'],
  ['checkout', 'charge', 'error'],
  ['search', 'query "quoted", back\\slash', 'success'],
] as const;

/** The same observations into a prom-client Histogram and a CellHistogram, each in its own registry. */
function both(contentType?: OpenMetricsContentType) {
  const exemplars = contentType !== undefined;
  const registry = (): Registry<RegistryContentType> => {
    const r = new Registry<RegistryContentType>();
    if (contentType !== undefined) r.setContentType(contentType);
    return r;
  };
  const theirs = registry();
  const ours = registry();
  const reference = new Histogram<string>({ name: 'h_seconds', help: 'a histogram', labelNames: [...LABELS], buckets: [...DEFAULT_BUCKETS], registers: [theirs], enableExemplars: exemplars });
  const cells = new CellHistogram('h_seconds', 'a histogram', LABELS, DEFAULT_BUCKETS, exemplars, [ours]);
  const cellOf = SERIES.map((values) => cells.cell(values));
  const labelsOf = SERIES.map((values) => Object.fromEntries(LABELS.map((l, i) => [l, values[i]!])));
  const observe = (series: number, value: number, traceId?: string): void => {
    if (exemplars) reference.observe({ labels: labelsOf[series]!, value, exemplarLabels: traceId === undefined ? {} : { trace_id: traceId } });
    else reference.labels(...SERIES[series]!).observe(value);
    cellOf[series]!.observe(value, traceId);
  };
  return { theirs, ours, reference, cells, cellOf, labelsOf, observe };
}

describe('CellHistogram', () => {
  it('exports exactly what prom-client exports for the same observations (Prometheus text)', async () => {
    const { theirs, ours, observe } = both();
    const random = seededRandom(7);
    // Series 1 first, so the export order (first seen) is not simply the order the cells were made in.
    observe(1, 0.25);
    for (let i = 0; i < 5_000; i++) observe(i % 3 === 1 ? 1 : i % 3, random() ** 3 * 120 + (i % 50 === 0 ? 1e6 : 0));
    observe(0, 0);
    observe(2, DEFAULT_BUCKETS[5]!);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_seconds_count{workflow="checkout",step="charge",outcome="success"}');
  });

  it('exports the same exemplars as prom-client (OpenMetrics), and the same JSON', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_700_000_000_000);
    const { theirs, ours, observe } = both(Registry.OPENMETRICS_CONTENT_TYPE);
    observe(0, 0.003, 'a'.repeat(32));
    observe(0, 0.2);
    observe(1, 4, 'b'.repeat(32));
    vi.setSystemTime(1_700_000_001_500);
    observe(0, 0.0031, 'c'.repeat(32));
    observe(2, 1e9, 'd'.repeat(32));
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('# {trace_id="cccccccccccccccccccccccccccccccc"} 0.0031 1700000001.5');
    // prom-client's exemplars are instances of its Exemplar class; the JSON is the same.
    const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
    expect(plain(await ours.getMetricsAsJSON())).toEqual(plain(await theirs.getMetricsAsJSON()));
  });

  it('touch() makes a series exist at 0 (as zero() on a new series), keeps what it counted, and resets follow the registry', async () => {
    const { theirs, ours, reference, cellOf, labelsOf } = both();
    reference.zero(labelsOf[2]!);
    cellOf[2]!.touch();
    cellOf[2]!.touch();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('h_seconds_count{workflow="search"');
    cellOf[2]!.observe(0.5);
    reference.labels(...SERIES[2]).observe(0.5);
    cellOf[2]!.touch();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('h_seconds_count{workflow="search",step="query \\"quoted\\", back\\\\slash",outcome="success"} 1');
    cellOf[0]!.observe(1);
    reference.labels(...SERIES[0]).observe(1);
    theirs.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('h_seconds_count');
    cellOf[0]!.observe(2);
    reference.labels(...SERIES[0]).observe(2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('refuses a value that is not a finite number, before changing anything', async () => {
    const { ours, cellOf } = both();
    cellOf[0]!.observe(1);
    const before = await ours.metrics();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(() => cellOf[0]!.observe(bad)).toThrow(TypeError);
    expect(await ours.metrics()).toBe(before);
  });
});
