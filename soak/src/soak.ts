/**
 * The soak: runs a realistic chain (chaos faults, retry, timeout, circuit breaker, fallback, cache,
 * cost with a price table) many times with Weft's Prometheus collector and an OpenTelemetry SDK on,
 * and prints one JSON report: outcome counts that must add up to the run count, heap usage after
 * forced GC at the start, middle and end, unhandled rejections, and the handles left at the end.
 *
 *   node --expose-gc dist/soak.js [--runs 1000000] [--concurrency 64] [--seed 1] [--otel sdk|api]
 *
 * Progress goes to stderr; the report is the last line of stdout. The exit code is 1 when a goal fails.
 */
import { parseArgs } from 'node:util';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { isWeftError } from '@weft/core';
import { WeftCollector } from '@weft/prometheus';
import { Registry } from 'prom-client';
import { exposedGc, leftoverResources, settledHeapUsed } from './heap.js';
import { buildSoakChain, classify, type Outcome } from './soak-chain.js';

// Taken first, so the stdio handles this process inherently has are not counted as leaks. Node
// opens a stdio stream's handle (TTYWrap, PipeWrap) when the stream is first touched: touch both.
void process.stdout.writable;
void process.stderr.writable;
const baselineResources = process.getActiveResourcesInfo();
let unhandledRejections = 0;
let uncaughtExceptions = 0;
const unhandledSamples: string[] = [];
process.on('unhandledRejection', (reason) => {
  unhandledRejections++;
  if (unhandledSamples.length < 5) unhandledSamples.push(String((reason as Error)?.stack ?? reason));
});
process.on('uncaughtException', (error) => {
  uncaughtExceptions++;
  if (unhandledSamples.length < 5) unhandledSamples.push(String(error.stack ?? error));
});

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
    otel: { type: 'string', default: 'sdk' },
  },
});
const int = (name: string, raw: string, min: number): number => {
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < min) {
    console.error(`soak: Expected \`--${name}\` to be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
};
const RUNS = int('runs', values.runs, 2);
const CONCURRENCY = int('concurrency', values.concurrency, 1);
const SEED = int('seed', values.seed, 0);
if (values.otel !== 'sdk' && values.otel !== 'api') {
  console.error(`soak: Expected \`--otel\` to be sdk or api, got ${JSON.stringify(values.otel)}`);
  process.exit(2);
}
if (exposedGc() === undefined) {
  console.error('soak: run with `node --expose-gc` (npm run soak does): heap readings need forced GC');
  process.exit(2);
}

/** Distinct topics (cache keys); the cache holds 500 for 20 ms, so most lookups miss. */
const TOPICS = 2_000;
/** Every fourth run asks one of a few hot topics, so the cache hits. */
const HOT_TOPICS = 40;
/** Every OUTAGE_EVERY runs, the provider is down for OUTAGE_RUNS runs: the breaker opens, then closes. */
const OUTAGE_EVERY = 20_000;
const OUTAGE_RUNS = 300;
/** Every ABORT_EVERY-th run's caller gives up after 0-4 ms. */
const ABORT_EVERY = 97;
/** The run deadline. */
const RUN_TIMEOUT_MS = 250;

// Telemetry on, as in a service: an OTel SDK whose spans are counted and dropped, and the collector.
let spansEnded = 0;
let otelShutdown: () => Promise<void> = () => Promise.resolve();
if (values.otel === 'sdk') {
  const counting: SpanProcessor = {
    onStart: () => undefined,
    onEnd: () => {
      spansEnded++;
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({ spanProcessors: [counting] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  otelShutdown = async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  };
}
const registry = new Registry();
const collector = new WeftCollector({ registry }).start();

const chain = buildSoakChain({ seed: SEED });
let breakerOpens = 0;
const offBreaker = chain.breaker.onStateChange((c) => {
  if (c.to === 'open') breakerOpens++;
});

const outcomes: Record<Outcome, number> = { success: 0, cached: 0, fallback: 0, typed_error: 0, untyped_error: 0 };
const errorCodes: Record<string, number> = {};
const untypedSamples: string[] = [];
let costTotal = 0;

async function one(i: number): Promise<void> {
  chain.outage = i % OUTAGE_EVERY < OUTAGE_RUNS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let signal: AbortSignal | undefined;
  if (i % ABORT_EVERY === 0) {
    const controller = new AbortController();
    timer = setTimeout(() => controller.abort(new Error('caller gave up')), i % 5);
    signal = controller.signal;
  }
  try {
    const r = await chain.flow.runDetailed({ topic: i % 4 === 0 ? i % HOT_TOPICS : i % TOPICS, n: i }, { correlationId: `soak-${i}`, workflow: 'soak', timeout: RUN_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    outcomes[classify({ ok: true, output: r.output, runId: r.runId })]++;
    costTotal += r.cost.total;
  } catch (error) {
    const outcome = classify({ ok: false, error });
    outcomes[outcome]++;
    if (isWeftError(error)) errorCodes[error.code] = (errorCodes[error.code] ?? 0) + 1;
    else if (untypedSamples.length < 5) untypedSamples.push(String((error as Error)?.stack ?? error));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function phase(from: number, to: number): Promise<number> {
  const t0 = performance.now();
  let next = from;
  const progressEvery = Math.max(1, Math.floor(RUNS / 10));
  const worker = async (): Promise<void> => {
    while (next < to) {
      // Each run starts from a macrotask, as a request arriving over I/O would. Without this the
      // workers chain runs through microtasks alone, timers starve, and a 1 ms retry delay or a
      // 25 ms timeout fires hundreds of ms late (a driver artefact, not the workload's behaviour).
      await yieldToLoop();
      if (next >= to) break;
      const i = next++;
      await one(i);
      if ((i + 1) % progressEvery === 0) console.error(`soak: ${i + 1} / ${RUNS} runs`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return performance.now() - t0;
}

const mb = (bytes: number): number => Math.round((bytes / 1_048_576) * 100) / 100;

console.error(`soak: ${RUNS} runs, ${CONCURRENCY} at a time, seed ${SEED}, OTel ${values.otel}`);
const heapStart = await settledHeapUsed();
const half = Math.floor(RUNS / 2);
const firstMs = await phase(0, half);
const heapMiddle = await settledHeapUsed();
const secondMs = await phase(half, RUNS);
const heapEnd = await settledHeapUsed();

// Cross-check against what the collector counted, then tear everything down.
const metricJson = await registry.getMetricsAsJSON();
const sumOf = (name: string, filter: (labels: Record<string, unknown>) => boolean = () => true): number =>
  metricJson.find((m) => m.name === name)?.values.filter((v) => filter(v.labels)).reduce((s, v) => s + v.value, 0) ?? 0;
const metrics = {
  workflowRuns: sumOf('weft_workflow_runs_total', (l) => l.workflow === 'soak'),
  workflowErrors: sumOf('weft_workflow_errors_total', (l) => l.workflow === 'soak'),
  fallbacks: sumOf('weft_fallbacks_total'),
  circuitTransitions: sumOf('weft_circuit_transitions_total'),
  chaosInjections: sumOf('weft_chaos_injections_total'),
  cacheRequests: sumOf('weft_cache_requests_total'),
  handlerErrors: sumOf('weft_metrics_handler_errors_total'),
  series: metricJson.reduce((s, m) => s + m.values.length, 0),
};
offBreaker();
collector.unregister();
await otelShutdown();
await new Promise((r) => setImmediate(r));
await new Promise((r) => setImmediate(r));
const leftover = leftoverResources(baselineResources);

const accounted = outcomes.success + outcomes.cached + outcomes.fallback + outcomes.typed_error + outcomes.untyped_error;
const growthPct = ((heapEnd - heapMiddle) / heapMiddle) * 100;
const goals = {
  heapGrowthUnder5Pct: growthPct < 5,
  zeroUnhandledRejections: unhandledRejections === 0 && uncaughtExceptions === 0,
  zeroActiveHandles: leftover.length === 0,
  everyRunAccounted: accounted === RUNS && outcomes.untyped_error === 0 && metrics.workflowRuns === RUNS,
};
const report = {
  runs: RUNS,
  concurrency: CONCURRENCY,
  seed: SEED,
  otel: values.otel,
  durationMs: Math.round(firstMs + secondMs),
  runsPerSecond: Math.round(RUNS / ((firstMs + secondMs) / 1000)),
  outcomes,
  accounted,
  errorCodes,
  untypedSamples,
  costTotalUsd: Math.round(costTotal * 1e6) / 1e6,
  breakerOpens,
  spansEnded,
  metrics,
  heap: {
    startBytes: heapStart,
    middleBytes: heapMiddle,
    endBytes: heapEnd,
    startMb: mb(heapStart),
    middleMb: mb(heapMiddle),
    endMb: mb(heapEnd),
    growthMiddleToEndPct: Math.round(growthPct * 1000) / 1000,
  },
  unhandledRejections,
  uncaughtExceptions,
  unhandledSamples,
  activeHandles: { count: leftover.length, leftover, baseline: baselineResources },
  goals,
  ok: Object.values(goals).every(Boolean),
};
console.error(
  `soak: ${accounted}/${RUNS} accounted (success ${outcomes.success}, cached ${outcomes.cached}, fallback ${outcomes.fallback}, typed errors ${outcomes.typed_error}, untyped ${outcomes.untyped_error}); ` +
    `heap ${report.heap.startMb} -> ${report.heap.middleMb} -> ${report.heap.endMb} MB (middle to end ${report.heap.growthMiddleToEndPct}%); ` +
    `unhandled rejections ${unhandledRejections}; handles left ${leftover.length}; ${report.runsPerSecond} runs/s; ${report.ok ? 'all goals met' : 'GOALS FAILED'}`,
);
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exitCode = report.ok ? 0 : 1;
