import type { Metric } from 'prom-client';

/** What the registry needs of a metric: it reads `getForPromString()` (or `get()`) at each scrape. */
interface Registers {
  registerMetric(metric: Metric): void;
}

interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

interface ValuePair {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  exemplar?: Exemplar | null;
}

/**
 * One series of a {@link CellHistogram}: its bucket counts in a plain array, so an observation is a
 * bucket search and three adds. prom-client's own `observe` validates and hashes the label set on
 * every call (about 380 ns, twice per run); this moves that cost to the scrape, once per series.
 */
export class HistogramCell {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  private readonly counts: Float64Array;
  private readonly exemplars: Array<Exemplar | undefined> | undefined;
  private sum = 0;
  private count = 0;
  /** Whether the series exists: observed, or touched, since the last reset. */
  private exists = false;

  constructor(
    /** The series that exist, in the order they came to (the order prom-client exports them in). */
    private readonly live: HistogramCell[],
    private readonly bounds: readonly number[],
    /** The series' label set, as prom-client's label-bound children hold it. */
    readonly labels: Readonly<Record<string, string>>,
    exemplars: boolean,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    this.exemplars = exemplars ? new Array<Exemplar | undefined>(bounds.length + 1) : undefined;
  }

  /**
   * Records one value; with exemplars enabled, a `traceId` becomes its bucket's exemplar. Throws a
   * TypeError, before changing anything, for a value that is not a finite number (as prom-client does).
   */
  observe(value: number, traceId?: string): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${String(value)}`);
    const bounds = this.bounds;
    // The first bound at or above the value (binary search: 37 bounds take 6 steps).
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo]!++;
    this.sum += value;
    this.count++;
    if (!this.exists) this.appear();
    if (this.exemplars !== undefined && traceId !== undefined) this.exemplars[lo] = { labelSet: { trace_id: traceId }, value, timestamp: Date.now() / 1000 };
  }

  /**
   * Makes the series exist, so a scrape shows it at 0 before any observation. Unlike prom-client's
   * `zero()`, it keeps what the series has already counted.
   */
  touch(): void {
    if (!this.exists) this.appear();
  }

  /** Forgets every observation and the series itself; the histogram empties its list of live series. */
  clear(): void {
    this.counts.fill(0);
    this.exemplars?.fill(undefined);
    this.sum = 0;
    this.count = 0;
    this.exists = false;
  }

  private appear(): void {
    this.exists = true;
    this.live.push(this);
  }

  /** Appends this series' samples in prom-client's export shape: cumulative buckets, +Inf, sum, count. */
  export(name: string, out: ValuePair[]): void {
    const bucket = `${name}_bucket`;
    const shared = this.labels as Record<string, string>;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      out.push({ labels: { le: this.bounds[i]! }, sharedLabels: shared, value: cumulative, metricName: bucket, exemplar: this.exemplars?.[i] ?? null });
    }
    out.push(
      // As prom-client: an unset +Inf exemplar is undefined when exemplars are on, null when off.
      { labels: { le: '+Inf' }, sharedLabels: shared, value: this.count, metricName: bucket, exemplar: this.exemplars === undefined ? null : this.exemplars[this.bounds.length] },
      { labels: {}, sharedLabels: shared, value: this.sum, metricName: `${name}_sum`, exemplar: undefined },
      { labels: {}, sharedLabels: shared, value: this.count, metricName: `${name}_count`, exemplar: undefined },
    );
  }
}

/**
 * A Prometheus histogram whose series are {@link HistogramCell}s. It registers with a prom-client
 * registry as any metric does (the registry only calls `getForPromString()`/`get()`/`reset()`), and
 * exports exactly what a prom-client `Histogram` with the same observations exports, exemplars
 * included (a test compares the two texts).
 */
export class CellHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells: HistogramCell[] = [];
  private readonly live: HistogramCell[] = [];
  private readonly bounds: readonly number[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    buckets: readonly number[],
    private readonly exemplars: boolean,
    registers: readonly Registers[],
  ) {
    this.bounds = Object.freeze([...buckets]);
    for (const r of registers) r.registerMetric(this as unknown as Metric);
  }

  /** The series for resolved label values (one per call: callers cache it). It exists once observed or touched. */
  cell(values: readonly string[]): HistogramCell {
    const labels: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i]!;
    const cell = new HistogramCell(this.live, this.bounds, Object.freeze(labels), this.exemplars);
    this.cells.push(cell);
    return cell;
  }

  /** The samples with the series' labels apart (`sharedLabels`), as the registry formats them. */
  getForPromString(): { name: string; help: string; type: 'histogram'; values: ValuePair[]; aggregator: 'sum' } {
    const values: ValuePair[] = [];
    for (const cell of this.live) cell.export(this.name, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The samples with each one's full label set, as prom-client's `Histogram.get()` returns them. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; values: ValuePair[]; aggregator: 'sum' }> {
    const data = this.getForPromString();
    data.values = data.values.map(({ sharedLabels, ...pair }) => ({ ...pair, labels: { ...pair.labels, ...sharedLabels } }));
    return Promise.resolve(data);
  }

  /** Drops every series, as prom-client's `reset()` does; the cells keep working. */
  reset(): void {
    for (const cell of this.cells) cell.clear();
    this.live.length = 0;
  }
}
