import { isAbortedError, onEvent, runOutcome, type RunOutcome, type WeftEvent, type WeftEventType } from '@weft/core';
import { Counter, Gauge, Registry, register as globalRegistry, type OpenMetricsContentType, type PrometheusContentType } from 'prom-client';
import { fail, knownOptions, optionalBoolean } from '@weft/core/options';
import { errorKind } from './error-kind.js';
import { CellHistogram, type HistogramCell } from './internal/cell-histogram.js';
import { ChildCache } from './internal/child-cache.js';
import { CounterCell, flushAll } from './internal/counter-cell.js';
import { LabelGuard, type OverflowReason } from './internal/label-guard.js';
import { integer } from './internal/integer.js';
import { KeyedBudget } from './internal/keyed-budget.js';
import { COUNT_BUCKETS, DEFAULT_BUCKETS, METRIC_DEFINITIONS, NO_MODEL_LABEL_VALUE, type MetricDefinition, type MetricKey } from './metric-names.js';

/**
 * A prom-client registry in either exposition format.
 *
 * @example
 * ```ts
 * const registry: AnyRegistry = new Registry();
 * ```
 */
export type AnyRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

/**
 * Options for {@link WeftCollector} and {@link createWeftMetrics}.
 *
 * @example
 * ```ts
 * const options: WeftMetricsOptions = { registry, buckets: [0.01, 0.1, 1, 10], prefix: 'checkout_', maxLabelValues: 100 };
 * ```
 */
export interface WeftMetricsOptions {
  /**
   * The registry to register the metrics in. Pass `'global'` to use prom-client's global registry;
   * the collector never touches it otherwise.
   */
  readonly registry: AnyRegistry | 'global';
  /**
   * Histogram buckets in seconds, for run and step durations: positive, finite, strictly increasing.
   * @default DEFAULT_BUCKETS (1 ms to 60 s)
   */
  readonly buckets?: readonly number[];
  /**
   * Prepended to every metric name (`myapp_` gives `myapp_weft_workflow_runs_total`).
   * @default ''
   */
  readonly prefix?: string;
  /**
   * Attach the run's or step's trace ID (`trace_id`) as an exemplar to duration observations.
   * Exemplars appear only in the OpenMetrics exposition format.
   * @default true when the registry's content type is OpenMetrics, else false
   */
  readonly exemplars?: boolean;
  /**
   * Distinct values each label may take (per label name, across all metrics); further values are
   * recorded as `other` and counted in `weft_metrics_label_overflow_total`.
   * @default 200
   */
  readonly maxLabelValues?: number;
  /**
   * Longest label value kept; longer values are truncated and counted in `weft_metrics_label_overflow_total`.
   * @default 128
   */
  readonly maxLabelLength?: number;
  /**
   * The event stream to subscribe to: anything with an rxjs-style `subscribe(next)`, such as the
   * rxjs Observable `events` of `@weft/core/events` after a `filter`.
   * @default every event of `@weft/core` (through `onEvent`, without loading rxjs)
   */
  readonly source?: WeftEventSource;
  /**
   * How long a key of a per-key budget counts as active after its last report. A key idle longer
   * is dropped from `weft_budget_keys` and the utilisation gauge: nothing says what its window
   * holds now.
   * @default 900000 (15 minutes)
   */
  readonly budgetKeyIdleMs?: number;
}

/**
 * The names a service built its workflows from, so that every series they can produce exists at 0
 * from the first scrape: an operator then sees 0, not "No data", and can tell no events from a
 * broken scrape. Every name is a name written in code. See {@link WeftCollector.declare}.
 *
 * @example
 * ```ts
 * collector.declare({ workflow: 'answer', retries: ['provider.alpha'], breakers: ['provider.alpha'], caches: ['answers'], budgets: ['daily'] });
 * ```
 */
export interface DeclaredWorkflow {
  /** The workflow name (the outermost primitive's, or `RunOptions.workflow`). */
  readonly workflow: string;
  /** Names of retry primitives. */
  readonly retries?: readonly string[];
  /** Names of timeout primitives. */
  readonly timeouts?: readonly string[];
  /** Fallback primitives: the step name and how many alternatives it has. */
  readonly fallbacks?: ReadonlyArray<{ readonly step: string; readonly alternatives: number }>;
  /** Names of circuit breakers (each starts closed). */
  readonly breakers?: readonly string[];
  /** Names of bulkheads. */
  readonly bulkheads?: readonly string[];
  /** Names of rate limiters. */
  readonly rateLimiters?: readonly string[];
  /** Names of hedge primitives. */
  readonly hedges?: readonly string[];
  /** Names of caches. */
  readonly caches?: readonly string[];
  /** Names of budgets with a window. */
  readonly budgets?: readonly string[];
  /** Names of sagas. */
  readonly sagas?: readonly string[];
  /** Names of streaming steps. */
  readonly streams?: readonly string[];
}

/** Anything with an rxjs-style `subscribe(next)` that returns something to `unsubscribe()`: an rxjs Observable of Weft events qualifies. */
export interface WeftEventSource {
  subscribe(next: (event: WeftEvent) => void): { unsubscribe(): void };
}

/**
 * The event types the collector records (the cases of `handle`; a test keeps the two equal). The
 * default source subscribes to these only, so primitives do not build the others (run.started,
 * step.started, ...) for the collector.
 */
export const RECORDED_EVENT_TYPES: readonly WeftEventType[] = Object.freeze([
  'run.finished',
  'step.finished',
  'retry.attempt',
  'retry.scheduled',
  'retry.gave_up',
  'timeout.expired',
  'fallback.served',
  'fallback.exhausted',
  'circuit.state_changed',
  'circuit.rejected',
  'bulkhead.rejected',
  'ratelimit.rejected',
  'ratelimit.store_error',
  'hedge.started',
  'hedge.won',
  'cache.request',
  'cache.set',
  'saga.finished',
  'saga.compensation',
  'saga.takeover',
  'stream.first_chunk',
  'stream.finished',
  'cost.recorded',
  'budget.usage',
  'budget.warning',
  'budget.exceeded',
  'budget.store_error',
  'chaos.injected',
  'route.chosen'
]);

/** The events the collector records, from every Weft primitive in the process, without rxjs. */
const allEvents: WeftEventSource = {
  subscribe(next) {
    return { unsubscribe: onEvent(next, { types: RECORDED_EVENT_TYPES }) };
  },
};

/**
 * Default values of the optional {@link WeftMetricsOptions}.
 *
 * @example
 * ```ts
 * createWeftMetrics({ registry, maxLabelValues: DEFAULTS.maxLabelValues * 2 });
 * ```
 */
export const DEFAULTS = {
  buckets: DEFAULT_BUCKETS,
  prefix: '',
  maxLabelValues: 200,
  maxLabelLength: 128,
  budgetKeyIdleMs: 900_000,
} as const satisfies Required<Pick<WeftMetricsOptions, 'buckets' | 'prefix' | 'maxLabelValues' | 'maxLabelLength' | 'budgetKeyIdleMs'>>;

const RUN_OUTCOMES: readonly RunOutcome[] = ['succeeded', 'rejected', 'failed'];
const GAVE_UP_REASONS = ['exhausted', 'not_retryable', 'deadline', 'aborted', 'hedge_lost', 'cancelled'] as const;

/**
 * Why a retry stopped, with cancellations told apart from real give-ups: a retry inside a hedged
 * attempt that lost (`hedge_lost`), one cancelled because a sibling failed (`cancelled`), one whose
 * caller gave up (`aborted`). Only `exhausted`, `deadline` and `not_retryable` are the retry giving up.
 */
function gaveUpReason(reason: string, error: unknown): string {
  if (reason !== 'aborted' && !(reason === 'not_retryable' && isAbortedError(error))) return reason;
  const by = isAbortedError(error) ? (error as { by?: unknown }).by : undefined;
  return by === 'hedge' ? 'hedge_lost' : by === 'sibling' ? 'cancelled' : 'aborted';
}
const CACHE_RESULTS = ['hit', 'miss', 'stale', 'store_error'] as const;
const CACHE_SET_REASONS = ['too_large', 'unserializable', 'store_error'] as const;
const STORE_REASONS = ['error', 'timeout'] as const;
const SAGA_OUTCOMES = ['completed', 'compensated', 'compensation_failed'] as const;
const STREAM_OUTCOMES = ['completed', 'failed_before_first_chunk', 'failed_mid_stream', 'aborted'] as const;
const BUDGET_KEY_STATES = ['active', 'warning', 'exhausted'] as const;

const PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const MAX_TRACE_ID_LENGTH = 64;
const CIRCUIT_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;
const OPENMETRICS = Registry.OPENMETRICS_CONTENT_TYPE;

type CounterChild = CounterCell;
type GaugeChild = Gauge.Internal<string>;
/** Makes the label-bound cell of one counter for resolved label values. */
type CounterFamily = (values: readonly string[]) => CounterCell;
/** A histogram series: observations go to its cell; the registry reads the cells at each scrape. */
type HistogramEntry = HistogramCell;
interface RunEntry {
  readonly duration: HistogramCell;
  readonly runs: CounterChild;
}
type CircuitEntry = Readonly<Record<(typeof CIRCUIT_STATES)[number], GaugeChild>>;

function resolveRegistry(value: unknown): AnyRegistry {
  if (value === 'global') return globalRegistry;
  if (value instanceof Registry) return value as AnyRegistry;
  // A registry from another installed copy of prom-client.
  const r = value as Partial<Registry> | null;
  if (typeof r === 'object' && r !== null && typeof r.registerMetric === 'function' && typeof r.getSingleMetric === 'function' && typeof r.metrics === 'function') return r as AnyRegistry;
  return fail('registry', "a prom-client Registry or 'global'", value);
}

function resolveBuckets(value: unknown): readonly number[] {
  if (value === undefined) return DEFAULTS.buckets;
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (value[i - 1] as number)));
  if (!ok) fail('buckets', 'a non-empty array of positive, finite, strictly increasing numbers of seconds', value);
  return Object.freeze([...(value as number[])]);
}

function resolvePrefix(value: unknown): string {
  if (value === undefined) return DEFAULTS.prefix;
  if (typeof value !== 'string' || (value !== '' && !PREFIX.test(value))) fail('prefix', 'a metric-name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*', value);
  return value;
}

/**
 * Records Weft's events as Prometheus metrics in a registry you pass in. Build it (bad options throw
 * a `TypeError` naming the option, and the metrics are registered at once), then `start()` it to
 * subscribe to the event stream; `stop()` unsubscribes and leaves the metrics in the registry.
 *
 * Label values come only from names written in code (workflow, step, breaker, cache, ...) and from
 * small fixed sets; each label is further capped in length and in distinct values. Recording never
 * throws into a workflow: a failure is swallowed and counted in `weft_metrics_handler_errors_total`.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { WeftCollector } from '@weft/prometheus';
 *
 * const registry = new Registry();
 * const collector = new WeftCollector({ registry }).start();
 * app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
 * // on shutdown
 * collector.stop();
 * ```
 */
export class WeftCollector {
  /** The registry the metrics are registered in. */
  readonly registry: AnyRegistry;
  /** Whether duration observations carry `trace_id` exemplars. */
  readonly exemplars: boolean;

  private readonly source: WeftEventSource;
  private subscription: { unsubscribe(): void } | undefined;
  private readonly names: string[] = [];
  private readonly guards = new Map<string, LabelGuard>();
  private readonly maxLabelValues: number;
  private readonly maxLabelLength: number;

  private readonly overflowCounter: CounterFamily;

  private readonly runs: ChildCache<RunEntry>;
  private readonly workflowErrors: ChildCache<CounterChild>;
  private readonly steps: ChildCache<HistogramEntry>;
  private readonly stepErrors: ChildCache<CounterChild>;
  private readonly retryAttempts: ChildCache<CounterChild>;
  private readonly retries: ChildCache<CounterChild>;
  private readonly retryGaveUp: ChildCache<CounterChild>;
  private readonly timeouts: ChildCache<CounterChild>;
  private readonly fallbacks: ChildCache<CounterChild>;
  private readonly fallbackExhausted: ChildCache<CounterChild>;
  private readonly circuitState: ChildCache<CircuitEntry>;
  private readonly circuitTransitions: ChildCache<CounterChild>;
  private readonly circuitRejections: ChildCache<CounterChild>;
  private readonly bulkheadRejections: ChildCache<CounterChild>;
  private readonly rateLimitRejections: ChildCache<CounterChild>;
  private readonly rateLimitStoreErrors: ChildCache<CounterChild>;
  private readonly hedgesStarted: ChildCache<CounterChild>;
  private readonly hedgesWon: ChildCache<CounterChild>;
  private readonly cacheRequests: ChildCache<CounterChild>;
  private readonly cacheSetFailures: ChildCache<CounterChild>;
  private readonly sagas: ChildCache<CounterChild>;
  private readonly sagaCompensations: ChildCache<CounterChild>;
  private readonly sagaTakeovers: ChildCache<CounterChild>;
  private readonly streams: ChildCache<CounterChild>;
  private readonly streamFirstChunk: ChildCache<HistogramEntry>;
  private readonly streamChunks: ChildCache<HistogramEntry>;
  private readonly streamTokens: ChildCache<HistogramEntry>;
  private readonly cost: ChildCache<CounterChild>;
  private readonly tokens: ChildCache<CounterChild>;
  private readonly budgetUtilisation: ChildCache<GaugeChild>;
  /** Per budget and scope, its keys as last reported (bounded, idle ones dropped). */
  private readonly keyed = new Map<string, KeyedBudget>();
  private readonly budgetKeyIdleMs: number;
  private readonly budgetKeys: ChildCache<Readonly<Record<(typeof BUDGET_KEY_STATES)[number], GaugeChild>>>;
  private readonly budgetSpent: ChildCache<CounterChild>;
  private readonly knownBreakers = new Set<string>();
  private readonly budgetExceeded: ChildCache<CounterChild>;
  private readonly budgetStoreErrors: ChildCache<CounterChild>;
  private readonly budgetDegraded: ChildCache<CounterChild>;
  private readonly chaosInjections: ChildCache<CounterChild>;
  private readonly routes: ChildCache<CounterChild>;
  private readonly handlerErrors: ChildCache<CounterChild>;
  private readonly overflows = new Map<string, CounterChild>();

  /** Validates the options and registers every metric; throws a `TypeError` naming a bad option. */
  constructor(options: WeftMetricsOptions) {
    if (typeof options !== 'object' || options === null) fail('options', 'an options object with a `registry`', options);
    knownOptions('createWeftMetrics', options as unknown as Record<string, unknown>, ['registry', 'buckets', 'prefix', 'exemplars', 'maxLabelValues', 'maxLabelLength', 'source', 'budgetKeyIdleMs']);
    const registry = resolveRegistry(options.registry);
    const buckets = resolveBuckets(options.buckets);
    const prefix = resolvePrefix(options.prefix);
    this.maxLabelValues = integer('maxLabelValues', options.maxLabelValues, DEFAULTS.maxLabelValues, 1, 100_000);
    this.maxLabelLength = integer('maxLabelLength', options.maxLabelLength, DEFAULTS.maxLabelLength, 1, 10_000);
    this.budgetKeyIdleMs = integer('budgetKeyIdleMs', options.budgetKeyIdleMs, DEFAULTS.budgetKeyIdleMs, 1, 366 * 86_400_000);
    this.exemplars = optionalBoolean('exemplars', options.exemplars) ?? registry.contentType === OPENMETRICS;
    const source = options.source ?? allEvents;
    if (typeof source !== 'object' || source === null || typeof (source as Partial<WeftEventSource>).subscribe !== 'function') fail('source', 'an Observable of Weft events', source);
    this.source = source;
    this.registry = registry;

    for (const d of Object.values(METRIC_DEFINITIONS)) {
      const name = prefix + d.name;
      if (registry.getSingleMetric(name) !== undefined) {
        fail('registry', `a registry without a metric named ${name} (another collector registered it: unregister() it, or give this one a \`prefix\`)`, 'a registry that has it');
      }
    }

    const registers = [registry];
    const counter = (d: MetricDefinition): CounterFamily => {
      this.names.push(prefix + d.name);
      const cells: CounterCell[] = [];
      const metric = new Counter({
        name: prefix + d.name,
        help: d.help,
        labelNames: d.labels,
        registers,
        collect: () => flushAll(cells),
      });
      return (values) => {
        const cell = new CounterCell(metric.labels(...values));
        cells.push(cell);
        return cell;
      };
    };
    const gauge = (d: MetricDefinition): Gauge<string> => {
      this.names.push(prefix + d.name);
      return new Gauge({ name: prefix + d.name, help: d.help, labelNames: d.labels, registers });
    };
    const histogram = (d: MetricDefinition, bounds: readonly number[] = buckets, exemplars = this.exemplars): CellHistogram => {
      this.names.push(prefix + d.name);
      return new CellHistogram(prefix + d.name, d.help, d.labels, bounds, exemplars, registers);
    };
    const M = METRIC_DEFINITIONS;

    // The overflow counter comes first: guards report into it.
    this.overflowCounter = counter(M.labelOverflow);

    const counterCache = (key: MetricKey): ChildCache<CounterChild> => {
      const d = M[key];
      return new ChildCache(this.guardsFor(d), counter(d));
    };

    // Runs: one entry holds both the counter and the histogram series for (workflow, outcome).
    const runCounter = counter(M.workflowRuns);
    const runHistogram = histogram(M.workflowRunDuration);
    this.runs = new ChildCache(this.guardsFor(M.workflowRuns), (values) => ({ duration: runHistogram.cell(values), runs: runCounter(values) }));
    this.workflowErrors = counterCache('workflowErrors');
    const stepHistogram = histogram(M.stepDuration);
    this.steps = new ChildCache(this.guardsFor(M.stepDuration), (values) => stepHistogram.cell(values));
    this.stepErrors = counterCache('stepErrors');
    this.retryAttempts = counterCache('retryAttempts');
    this.retries = counterCache('retries');
    this.retryGaveUp = counterCache('retryGaveUp');
    this.timeouts = counterCache('timeouts');
    this.fallbacks = counterCache('fallbacks');
    this.fallbackExhausted = counterCache('fallbackExhausted');
    const stateGauge = gauge(M.circuitState);
    this.circuitState = new ChildCache([this.guard('breaker')], ([breaker]) => ({
      closed: stateGauge.labels(breaker!, 'closed'),
      open: stateGauge.labels(breaker!, 'open'),
      'half-open': stateGauge.labels(breaker!, 'half-open'),
      isolated: stateGauge.labels(breaker!, 'isolated'),
    }));
    this.circuitTransitions = counterCache('circuitTransitions');
    this.circuitRejections = counterCache('circuitRejections');
    this.bulkheadRejections = counterCache('bulkheadRejections');
    this.rateLimitRejections = counterCache('rateLimitRejections');
    this.rateLimitStoreErrors = counterCache('rateLimitStoreErrors');
    this.hedgesStarted = counterCache('hedgesStarted');
    this.hedgesWon = counterCache('hedgesWon');
    this.cacheRequests = counterCache('cacheRequests');
    this.cacheSetFailures = counterCache('cacheSetFailures');
    this.sagas = counterCache('sagas');
    this.sagaCompensations = counterCache('sagaCompensations');
    this.sagaTakeovers = counterCache('sagaTakeovers');
    this.streams = counterCache('streams');
    const ttfc = histogram(M.streamTimeToFirstChunk, buckets, false);
    this.streamFirstChunk = new ChildCache(this.guardsFor(M.streamTimeToFirstChunk), (values) => ttfc.cell(values));
    const chunksHistogram = histogram(M.streamChunks, COUNT_BUCKETS, false);
    this.streamChunks = new ChildCache(this.guardsFor(M.streamChunks), (values) => chunksHistogram.cell(values));
    const tokensHistogram = histogram(M.streamTokens, COUNT_BUCKETS, false);
    this.streamTokens = new ChildCache(this.guardsFor(M.streamTokens), (values) => tokensHistogram.cell(values));
    this.cost = counterCache('cost');
    this.tokens = counterCache('tokens');
    const utilisationGauge = gauge(M.budgetUtilisation);
    this.budgetUtilisation = new ChildCache(this.guardsFor(M.budgetUtilisation), (values) => utilisationGauge.labels(...values));
    const keysGauge = gauge(M.budgetKeys);
    this.budgetKeys = new ChildCache([this.guard('budget'), this.guard('scope')], ([budget, scope]) => ({
      active: keysGauge.labels(budget!, scope!, 'active'),
      warning: keysGauge.labels(budget!, scope!, 'warning'),
      exhausted: keysGauge.labels(budget!, scope!, 'exhausted'),
    }));
    this.budgetSpent = counterCache('budgetSpent');
    this.budgetExceeded = counterCache('budgetExceeded');
    this.budgetStoreErrors = counterCache('budgetStoreErrors');
    this.budgetDegraded = counterCache('budgetDegraded');
    this.chaosInjections = counterCache('chaosInjections');
    this.routes = counterCache('routes');
    this.handlerErrors = counterCache('handlerErrors');
  }

  /**
   * Subscribes to the event stream. Idempotent.
   *
   * @example
   * ```ts
   * const collector = new WeftCollector({ registry }).start();
   * ```
   */
  start(): this {
    if (this.subscription === undefined) this.subscription = this.source.subscribe((event) => this.record(event));
    return this;
  }

  /**
   * Unsubscribes from the event stream. The metrics stay in the registry with their values; `start()`
   * resumes recording.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => collector.stop());
   * ```
   */
  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /**
   * Stops the collector and removes its metrics from the registry, so another collector can register
   * the same names there.
   *
   * @example
   * ```ts
   * collector.unregister();
   * const fresh = createWeftMetrics({ registry });
   * ```
   */
  unregister(): void {
    this.stop();
    for (const name of this.names) this.registry.removeSingleMetric(name);
  }

  /** Whether the collector is subscribed to its event stream. */
  get running(): boolean {
    return this.subscription !== undefined;
  }

  /**
   * Records one event. `start()` feeds every event here; call it yourself to record events from another
   * source. Never throws: a failure is counted in `weft_metrics_handler_errors_total`.
   *
   * @example
   * ```ts
   * collector.record(event);
   * ```
   */
  record(event: WeftEvent): void {
    try {
      this.handle(event);
    } catch {
      this.countHandlerError(event);
    }
  }

  /**
   * Creates, at 0, every series the named parts of a workflow can produce, so a fresh scrape shows
   * them (and a panel reads 0, not "No data"). Call it at start-up with the names your code uses;
   * calling it again with the same names changes nothing. Circuit breakers are declared closed
   * unless an event already said otherwise. Names pass the same label guards as recorded ones.
   *
   * @example
   * ```ts
   * collector.declare({ workflow: 'answer', retries: ['provider.alpha'], timeouts: ['provider.alpha'], breakers: ['provider.alpha'] });
   * ```
   */
  declare(declared: DeclaredWorkflow): this {
    const w = declared.workflow;
    if (typeof w !== 'string' || w === '') fail('workflow', 'a non-empty workflow name', w);
    for (const outcome of RUN_OUTCOMES) {
      const entry = this.runs.get2(w, outcome);
      entry.runs.touch();
      entry.duration.touch();
    }
    for (const step of declared.retries ?? []) {
      this.retryAttempts.get2(w, step).touch();
      this.retries.get2(w, step).touch();
      for (const reason of GAVE_UP_REASONS) this.retryGaveUp.get3(w, step, reason).touch();
    }
    for (const step of declared.timeouts ?? []) this.timeouts.get2(w, step).touch();
    for (const { step, alternatives } of declared.fallbacks ?? []) {
      for (let i = 1; i <= alternatives; i++) this.fallbacks.get3(w, step, String(i)).touch();
      this.fallbackExhausted.get2(w, step).touch();
    }
    for (const breaker of declared.breakers ?? []) {
      for (const state of ['open', 'half-open', 'isolated']) this.circuitRejections.get3(w, breaker, state).touch();
      if (!this.knownBreakers.has(breaker)) this.setCircuitState(breaker, 'closed');
    }
    for (const bulkhead of declared.bulkheads ?? []) this.bulkheadRejections.get2(w, bulkhead).touch();
    for (const limiter of declared.rateLimiters ?? []) {
      this.rateLimitRejections.get2(w, limiter).touch();
      for (const reason of STORE_REASONS) this.rateLimitStoreErrors.get2(limiter, reason).touch();
    }
    for (const step of declared.hedges ?? []) {
      for (const trigger of ['delay', 'error']) this.hedgesStarted.get3(w, step, trigger).touch();
      this.hedgesWon.get2(w, step).touch();
    }
    for (const cache of declared.caches ?? []) {
      for (const result of CACHE_RESULTS) this.cacheRequests.get3(w, cache, result).touch();
      for (const reason of CACHE_SET_REASONS) this.cacheSetFailures.get3(w, cache, reason).touch();
    }
    for (const budget of declared.budgets ?? []) {
      this.budgetExceeded.get2(budget, 'window').touch();
      this.budgetSpent.get2(budget, 'window').touch();
      for (const operation of ['reserve', 'charge']) for (const reason of STORE_REASONS) this.budgetStoreErrors.get3(budget, operation, reason).touch();
      for (const decision of ['open', 'allowance', 'refused']) this.budgetDegraded.get2(budget, decision).touch();
      const keys = this.budgetKeys.get2(budget, 'window');
      for (const state of BUDGET_KEY_STATES) keys[state].inc(0);
    }
    for (const saga of declared.sagas ?? []) {
      for (const outcome of SAGA_OUTCOMES) this.sagas.get3(w, saga, outcome).touch();
      for (const direction of ['resume', 'compensate']) this.sagaTakeovers.get3(w, saga, direction).touch();
    }
    for (const step of declared.streams ?? []) for (const outcome of STREAM_OUTCOMES) this.streams.get3(w, step, outcome).touch();
    return this;
  }

  /** Records one budget report: per-key budgets through their {@link KeyedBudget}, others as they are. */
  private recordBudget(e: Extract<WeftEvent, { type: 'budget.usage' | 'budget.warning' | 'budget.exceeded' }>): void {
    const gauge = this.budgetUtilisation.get2(e.budget, e.scope);
    if (e.scope === 'run') {
      gauge.set(e.utilisation);
      return;
    }
    const id = `${e.budget}\u0000${e.scope}`;
    let keyed = this.keyed.get(id);
    if (keyed === undefined) this.keyed.set(id, (keyed = new KeyedBudget(this.budgetKeyIdleMs, 10_000)));
    // A budget without keys is one key.
    const view = keyed.report(e.partition ?? '', e.utilisation, e.warnAt, e.type === 'budget.exceeded' ? undefined : e.spent, e.time);
    gauge.set(e.partition === undefined ? e.utilisation : view.highestBelowLimit);
    const keys = this.budgetKeys.get2(e.budget, e.scope);
    keys.active.set(view.active);
    keys.warning.set(view.warning);
    keys.exhausted.set(view.exhausted);
    if (view.spentDelta > 0) this.budgetSpent.get2(e.budget, e.scope).inc(view.spentDelta);
  }

  private handle(e: WeftEvent): void {
    switch (e.type) {
      case 'run.finished': {
        const entry = this.runs.get2(e.workflow, e.outcome === 'success' ? 'succeeded' : runOutcome(e.error));
        entry.runs.inc();
        this.observe(entry.duration, e.durationMs / 1000, e.traceId);
        if (e.outcome === 'error') this.workflowErrors.get2(e.workflow, errorKind(e.error)).inc();
        return;
      }
      case 'step.finished': {
        this.observe(this.steps.get3(e.workflow, e.step, e.outcome), e.durationMs / 1000, e.traceId);
        if (e.outcome === 'error') this.stepErrors.get3(e.workflow, e.step, errorKind(e.error)).inc();
        return;
      }
      case 'retry.attempt':
        this.retryAttempts.get2(e.workflow, e.step).inc();
        return;
      case 'retry.scheduled':
        this.retries.get2(e.workflow, e.step).inc();
        return;
      case 'retry.gave_up':
        this.retryGaveUp.get3(e.workflow, e.step, gaveUpReason(e.reason, e.error)).inc();
        return;
      case 'timeout.expired':
        this.timeouts.get2(e.workflow, e.step).inc();
        return;
      case 'fallback.served':
        this.fallbacks.get3(e.workflow, e.step, String(e.index)).inc();
        return;
      case 'fallback.exhausted':
        this.fallbackExhausted.get2(e.workflow, e.step).inc();
        return;
      case 'circuit.state_changed':
        this.circuitTransitions.get3(e.breaker, e.from, e.to).inc();
        this.setCircuitState(e.breaker, e.to);
        return;
      case 'circuit.rejected':
        this.circuitRejections.get3(e.workflow, e.breaker, e.state).inc();
        this.setCircuitState(e.breaker, e.state);
        return;
      case 'bulkhead.rejected':
        this.bulkheadRejections.get2(e.workflow, e.bulkhead).inc();
        return;
      case 'ratelimit.rejected':
        this.rateLimitRejections.get2(e.workflow, e.limiter).inc();
        return;
      case 'ratelimit.store_error':
        this.rateLimitStoreErrors.get2(e.limiter, e.reason).inc();
        return;
      case 'hedge.started':
        this.hedgesStarted.get3(e.workflow, e.step, e.trigger).inc();
        return;
      case 'hedge.won':
        if (e.attempt > 1) this.hedgesWon.get2(e.workflow, e.step).inc();
        return;
      case 'cache.request':
        this.cacheRequests.get3(e.workflow, e.cache, e.result).inc();
        return;
      case 'cache.set':
        if (!e.ok) this.cacheSetFailures.get3(e.workflow, e.cache, e.reason ?? 'store_error').inc();
        return;
      case 'saga.finished':
        this.sagas.get3(e.workflow, e.saga, e.outcome).inc();
        return;
      case 'saga.compensation':
        this.sagaCompensations.get4(e.workflow, e.saga, e.compensatedStep, e.outcome).inc();
        return;
      case 'saga.takeover':
        this.sagaTakeovers.get3(e.workflow, e.saga, e.direction).inc();
        return;
      case 'stream.first_chunk':
        this.streamFirstChunk.get2(e.workflow, e.step).observe(e.timeToFirstChunkMs / 1000);
        return;
      case 'stream.finished':
        this.streams.get3(e.workflow, e.step, e.outcome).inc();
        this.streamChunks.get2(e.workflow, e.step).observe(e.chunks);
        if (e.tokens !== undefined) this.streamTokens.get2(e.workflow, e.step).observe(e.tokens);
        return;
      case 'cost.recorded': {
        const model = e.model ?? NO_MODEL_LABEL_VALUE;
        this.cost.get4(e.workflow, e.step, model, e.currency).inc(e.amount);
        if (e.inputTokens) this.tokens.get4(e.workflow, e.step, model, 'input').inc(e.inputTokens);
        if (e.outputTokens) this.tokens.get4(e.workflow, e.step, model, 'output').inc(e.outputTokens);
        return;
      }
      case 'budget.usage':
      case 'budget.warning':
      case 'budget.exceeded':
        this.recordBudget(e);
        if (e.type === 'budget.exceeded') this.budgetExceeded.get2(e.budget, e.scope).inc();
        return;
      case 'budget.store_error':
        this.budgetStoreErrors.get3(e.budget, e.operation, e.reason).inc();
        if (e.decision !== undefined) this.budgetDegraded.get2(e.budget, e.decision).inc();
        return;
      case 'chaos.injected':
        this.chaosInjections.get3(e.workflow, e.step, e.fault).inc();
        return;
      case 'route.chosen':
        this.routes.get4(e.workflow, e.step, e.route, e.reason).inc();
        return;
      default:
        // run.started, step.started and the rest carry nothing these metrics count.
        return;
    }
  }

  private observe(cell: HistogramCell, seconds: number, traceId: string | undefined): void {
    cell.observe(seconds, this.exemplars && typeof traceId === 'string' && traceId.length <= MAX_TRACE_ID_LENGTH ? traceId : undefined);
  }

  private setCircuitState(breaker: string, state: string): void {
    if (this.knownBreakers.size < 10_000) this.knownBreakers.add(breaker);
    const gauges = this.circuitState.get1(breaker);
    for (const s of CIRCUIT_STATES) gauges[s].set(s === state ? 1 : 0);
  }

  private countHandlerError(event: WeftEvent): void {
    try {
      this.handlerErrors.get1(typeof event === 'object' && event !== null ? event.type : 'other').inc();
    } catch {
      // Telemetry never breaks a workflow.
    }
  }

  private guardsFor(d: MetricDefinition): LabelGuard[] {
    return d.labels.map((label) => this.guard(label));
  }

  private guard(label: string): LabelGuard {
    let guard = this.guards.get(label);
    if (guard === undefined) {
      guard = new LabelGuard(label, this.maxLabelValues, this.maxLabelLength, (l, reason) => this.countOverflow(l, reason));
      this.guards.set(label, guard);
    }
    return guard;
  }

  private countOverflow(label: string, reason: OverflowReason): void {
    const key = `${label}\u0000${reason}`;
    let child = this.overflows.get(key);
    if (child === undefined) {
      child = this.overflowCounter([label, reason]);
      this.overflows.set(key, child);
    }
    child.inc();
  }
}

/**
 * Builds a {@link WeftCollector} and starts it: Weft's events are recorded as Prometheus metrics in
 * `registry` from now on. Bad options throw a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { createWeftMetrics } from '@weft/prometheus';
 *
 * const registry = new Registry();
 * const metrics = createWeftMetrics({ registry, prefix: 'checkout_' });
 * // later: metrics.stop();
 * ```
 */
export function createWeftMetrics(options: WeftMetricsOptions): WeftCollector {
  return new WeftCollector(options).start();
}
