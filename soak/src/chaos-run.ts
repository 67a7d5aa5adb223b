/**
 * Chaos end to end: the gateway (demo providers, every store in a dedicated Redis) serves steady
 * traffic while a script breaks things, phase by phase:
 *
 *   baseline -> beta (the standard tier's provider) dies -> beta recovers -> Redis is killed ->
 *   Redis restarts -> latency spikes on alpha and beta (past the provider timeout) -> recovery
 *
 * It prints one JSON report: answers by phase and status/error code, the 5xx split into those that
 * had a fallback path and those that did not, beta's circuit transitions, the slowest answer
 * against the request deadline, and heap usage (after forced GC) at the start and end.
 *
 *   node --expose-gc dist/chaos-run.js [--phase-seconds 10] [--workers 12]
 *
 * Exit code 3 when redis-server is missing; 1 when a goal fails.
 */
import { parseArgs } from 'node:util';
import { buildApp } from '@weft/gateway/dist/app.js';
import { loadConfig } from '@weft/gateway/dist/config.js';
import { exposedGc, settledHeapUsed } from './heap.js';
import { RedisServer, freePort, hasRedisServer } from '@weft/test-support';

const { values } = parseArgs({ options: { 'phase-seconds': { type: 'string', default: '10' }, workers: { type: 'string', default: '12' } } });
const PHASE_MS = Number(values['phase-seconds']) * 1000;
const WORKERS = Number(values.workers);
if (!(PHASE_MS >= 1000) || !Number.isInteger(WORKERS) || WORKERS < 1) {
  console.error('chaos: Expected `--phase-seconds` >= 1 and `--workers` a positive integer');
  process.exit(2);
}
if (!hasRedisServer()) {
  console.error('chaos: redis-server is not on the PATH (apt-get install redis-server)');
  process.exit(3);
}
const gc = exposedGc();

const KEY = 'chaos-key-0123456789';
const REQUEST_TIMEOUT_MS = 3_000;
const PROVIDER_TIMEOUT_MS = 500;
const BREAKER_OPEN_MS = 1_000;
/** An answer slower than the deadline plus this counts as having hung past it. */
const DEADLINE_SLACK_MS = 750;

const redis = new RedisServer(await freePort());
await redis.start();
const config = loadConfig({
  PORT: '0',
  LOG_LEVEL: 'warn',
  GATEWAY_API_KEYS: `chaos:${KEY}`,
  REDIS_URL: redis.url,
  REDIS_PREFIX: `chaos-${process.pid}`,
  RATE_LIMIT_RPS: '100000',
  RATE_LIMIT_BURST: '100000',
  DAILY_BUDGET_USD: '100000',
  PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
  PROVIDER_RETRIES: '1',
  BREAKER_THRESHOLD: '5',
  BREAKER_OPEN_MS: String(BREAKER_OPEN_MS),
  REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  CACHE_TTL_MS: '2000',
});
let warnings = 0;
const app = await buildApp(config, { env: {}, logDestination: { write: () => void warnings++ } });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
const sim = app.gateway.simulated!;
await app.gateway.stores.redis!.ready(5_000);

let phase = 'warm-up';
const transitions: Array<{ breaker: string; from: string; to: string; phase: string; atMs: number }> = [];
const t0 = performance.now();
for (const [name, breaker] of app.gateway.workflow.breakers) {
  breaker.onStateChange((c) => transitions.push({ breaker: name, from: c.from, to: c.to, phase, atMs: Math.round(performance.now() - t0) }));
}

interface PhaseStats {
  requests: number;
  byStatus: Record<string, number>;
  byError: Record<string, number>;
  maxLatencyMs: number;
  overDeadline: number;
  clientAborted: number;
}
const stats = new Map<string, PhaseStats>();
const statsOf = (p: string): PhaseStats => {
  let s = stats.get(p);
  if (!s) stats.set(p, (s = { requests: 0, byStatus: {}, byError: {}, maxLatencyMs: 0, overDeadline: 0, clientAborted: 0 }));
  return s;
};
const tiers = ['standard', 'standard', 'standard', 'economy', 'premium'] as const;
let n = 0;
let running = true;

async function worker(): Promise<void> {
  while (running) {
    const i = n++;
    const p = phase;
    const s = statsOf(p);
    const started = performance.now();
    // A third of the questions repeat (cache hits while Redis is up).
    const question = i % 3 === 0 ? `Why is topic ${i % 20} interesting?` : `Question ${i} about chaos?`;
    try {
      const res = await fetch(`${url}/v1/answer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-correlation-id': `chaos-${i}` },
        body: JSON.stringify({ question, tier: tiers[i % tiers.length] }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS + 5_000),
      });
      const body = (await res.json()) as { error?: string };
      s.byStatus[res.status] = (s.byStatus[res.status] ?? 0) + 1;
      if (body.error !== undefined) s.byError[`${res.status} ${body.error}`] = (s.byError[`${res.status} ${body.error}`] ?? 0) + 1;
    } catch {
      s.clientAborted++;
    }
    const ms = performance.now() - started;
    s.requests++;
    s.maxLatencyMs = Math.max(s.maxLatencyMs, Math.round(ms));
    if (ms > REQUEST_TIMEOUT_MS + DEADLINE_SLACK_MS) s.overDeadline++;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const heapSamples: number[] = [];
const sampler = setInterval(() => heapSamples.push(process.memoryUsage().heapUsed), 250);
const workers = Array.from({ length: WORKERS }, worker);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const script: Array<{ name: string; apply: () => Promise<void> | void }> = [
  { name: 'baseline', apply: () => undefined },
  { name: 'beta down', apply: () => void sim.configure('beta', { down: true }) },
  { name: 'beta recovered', apply: () => void sim.configure('beta', { down: false }) },
  { name: 'redis killed', apply: () => redis.kill() },
  { name: 'redis restarted', apply: () => redis.start() },
  {
    name: 'latency spike',
    apply: () => {
      sim.configure('alpha', { latencyMs: 800, jitterMs: 1_500 });
      sim.configure('beta', { latencyMs: 800, jitterMs: 1_500 });
    },
  },
  {
    name: 'recovered',
    apply: () => {
      sim.configure('alpha', { latencyMs: 0, jitterMs: 0 });
      sim.configure('beta', { latencyMs: 0, jitterMs: 0 });
    },
  },
];

await wait(Math.min(2_000, PHASE_MS));
const heapStart = gc ? await settledHeapUsed() : process.memoryUsage().heapUsed;
const phaseStarts: Record<string, number> = {};
for (const step of script) {
  console.error(`chaos: ${step.name}`);
  await step.apply();
  phase = step.name;
  phaseStarts[step.name] = Math.round(performance.now() - t0);
  await wait(PHASE_MS);
}
running = false;
console.error('chaos: draining');
await Promise.all(workers);
console.error(`chaos: drained at ${Math.round(performance.now() - t0)} ms`);
clearInterval(sampler);
const heapEnd = gc ? await settledHeapUsed() : process.memoryUsage().heapUsed;
const betaFinal = app.gateway.workflow.breakers.get('beta')?.state;
// Provider calls the gateway abort (its provider timeout) leave keep-alive sockets that the
// simulated providers' close() then waits on for up to Fastify's 72 s keep-alive (see the README).
// Time the close as it is, but first drop this process's fetch pool so the wait does not happen.
const closeStarted = performance.now();
const dispatcher = (globalThis as Record<symbol, { destroy?: () => Promise<void> } | undefined>)[Symbol.for('undici.globalDispatcher.1')];
await dispatcher?.destroy?.().catch(() => undefined);
await app.close();
const closeMs = Math.round(performance.now() - closeStarted);
await redis.kill();
console.error(`chaos: closed at ${Math.round(performance.now() - t0)} ms`);

// 5xx split: budget_unavailable is the budget failing closed while its store (Redis) is down: no
// fallback path by design. Every other answer had the other providers to fall back on.
const phases = Object.fromEntries([...stats].filter(([p]) => p !== 'warm-up'));
let total = 0;
let fiveXxWithFallback = 0;
let fiveXxBudgetFailClosed = 0;
let overDeadline = 0;
let clientAborted = 0;
let maxLatencyMs = 0;
for (const s of Object.values(phases)) {
  total += s.requests;
  overDeadline += s.overDeadline;
  clientAborted += s.clientAborted;
  maxLatencyMs = Math.max(maxLatencyMs, s.maxLatencyMs);
  for (const [key, count] of Object.entries(s.byError)) {
    if (!key.startsWith('5')) continue;
    if (key === '503 budget_unavailable') fiveXxBudgetFailClosed += count;
    else fiveXxWithFallback += count;
  }
}
const betaTransitions = transitions.filter((t) => t.breaker === 'beta');
const opened = betaTransitions.some((t) => t.to === 'open' && t.phase === 'beta down');
const closedAfter = betaTransitions.some((t) => t.to === 'closed' && t.from === 'half-open' && t.phase !== 'beta down' && t.phase !== 'warm-up' && t.phase !== 'baseline');
const mb = (b: number) => Math.round((b / 1_048_576) * 100) / 100;
const heapGrowthPct = ((heapEnd - heapStart) / heapStart) * 100;
const goals = {
  zero5xxWithFallbackPath: fiveXxWithFallback === 0,
  circuitOpensThenCloses: opened && closedAfter,
  noRequestPastDeadline: overDeadline === 0 && clientAborted === 0,
  memoryBounded: heapGrowthPct < 50,
};
const report = {
  phaseSeconds: PHASE_MS / 1000,
  workers: WORKERS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  total,
  phases,
  phaseStarts,
  fiveXxWithFallback,
  fiveXxBudgetFailClosed,
  overDeadline,
  clientAborted,
  maxLatencyMs,
  transitions,
  betaFinal,
  heap: { startMb: mb(heapStart), endMb: mb(heapEnd), maxSampledMb: mb(Math.max(...heapSamples)), growthPct: Math.round(heapGrowthPct * 100) / 100, forcedGc: gc !== undefined },
  warnings,
  closeMs,
  goals,
  ok: Object.values(goals).every(Boolean),
};
console.error(
  `chaos: ${total} requests; 5xx with a fallback path ${fiveXxWithFallback}; 503 budget_unavailable (budget fails closed, Redis down) ${fiveXxBudgetFailClosed}; ` +
    `beta breaker ${betaTransitions.map((t) => `${t.from}->${t.to}@${t.phase}`).join(', ')}; max latency ${maxLatencyMs} ms (deadline ${REQUEST_TIMEOUT_MS}); ` +
    `heap ${report.heap.startMb} -> ${report.heap.endMb} MB (max sampled ${report.heap.maxSampledMb}); ${report.ok ? 'all goals met' : 'GOALS FAILED'}`,
);
console.log(JSON.stringify(report));
process.exitCode = report.ok ? 0 : 1;
