/**
 * Drives realistic traffic at the gateway with autocannon, so the dashboards have something to
 * show: a mix of tiers, repeated questions (cache hits), three demo keys (one with a tiny budget,
 * so 402s appear), and scripted faults on the simulated providers: an outage of the cheapest
 * provider, slow responses on the middle one, then recovery.
 *
 *   npm run load -- --seconds 30 [--url http://127.0.0.1:3000] [--sim http://127.0.0.1:4010] [--rate 40] [--connections 8]
 *
 * Without a gateway answering at --url (default GATEWAY_URL or http://127.0.0.1:3000) it starts one
 * in this process on that port, in demo mode, and scripts its simulated providers directly. Against
 * an external gateway, pass --sim with the admin URL `npm start` printed to script the faults.
 *
 * Latencies: autocannon's coordinated-omission correction is off, so the client's figures are what
 * each request took (the correction once reported a p50 of 712 ms where the server's was 3.4 ms).
 * The summary prints the client's percentiles beside the server's own (`x-response-time`), which
 * are what the dashboards show.
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { DEMO_KEYS } from './auth.js';
import { loadConfig } from './config.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    url: { type: 'string', default: process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000' },
    sim: { type: 'string' },
    rate: { type: 'string', default: '40' },
    connections: { type: 'string', default: '8' },
  },
});

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`load: Expected \`--${name}\` to be a positive integer, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return n;
}
const seconds = positiveInt('seconds', values.seconds);
const rate = positiveInt('rate', values.rate);
const connections = positiveInt('connections', values.connections);

/** Sets one simulated provider's behaviour: through the admin endpoint, or in process. */
type Configure = (provider: string, patch: Record<string, unknown>) => Promise<void>;

async function reachable(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

let app: FastifyInstance | undefined;
let url = values.url.replace(/\/+$/, '');
let configure: Configure | undefined;
if (await reachable(url)) {
  console.error(`load: driving the gateway at ${url}`);
  if (values.sim !== undefined) {
    const sim = values.sim.replace(/\/+$/, '');
    configure = async (provider, patch) => {
      await fetch(`${sim}/admin/providers/${provider}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
    };
  } else {
    console.error('load: no --sim admin URL given, so provider faults are not scripted (budget exhaustion still is)');
  }
} else {
  const port = Number(new URL(url).port || 80);
  const config = loadConfig({ ...process.env, PORT: String(port), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', GATEWAY_PROVIDERS: 'simulated', GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: '' });
  app = await buildApp(config);
  await app.listen({ port, host: '127.0.0.1' });
  url = `http://127.0.0.1:${port}`;
  const sim = app.gateway.simulated!;
  configure = (provider, patch) => {
    sim.configure(provider, patch);
    return Promise.resolve();
  };
  console.error(`load: started a demo gateway at ${url} (metrics at ${url}/metrics)`);
}

/** The fault script, as fractions of the run. */
const phases: Array<{ at: number; label: string; apply: (c: Configure) => Promise<void> }> = [
  { at: 0.25, label: 'outage: alpha is down', apply: (c) => c('alpha', { down: true }) },
  { at: 0.5, label: 'alpha recovers; beta turns slow (0.8-3 s)', apply: async (c) => {
    await c('alpha', { down: false });
    await c('beta', { latencyMs: 800, jitterMs: 2_200 });
  } },
  { at: 0.75, label: 'beta recovers; gamma fails 30% of calls', apply: async (c) => {
    await c('beta', { latencyMs: 0, jitterMs: 0 });
    await c('gamma', { errorRate: 0.3 });
  } },
];
const timers = configure === undefined ? [] : phases.map((phase) =>
  setTimeout(() => {
    console.error(`load: ${phase.label}`);
    phase.apply(configure).catch((error: unknown) => console.error(`load: could not script the fault: ${(error as Error).message}`));
  }, phase.at * seconds * 1_000),
);

const topics = ['the sky', 'tides', 'rainbows', 'volcanoes', 'sourdough', 'black holes', 'jet lag', 'bees', 'glaciers', 'compilers'];
const tiers = ['economy', 'economy', 'standard', 'standard', 'standard', 'premium'];
const keys = [DEMO_KEYS[0].key, DEMO_KEYS[0].key, DEMO_KEYS[0].key, DEMO_KEYS[1].key, DEMO_KEYS[1].key, DEMO_KEYS[2].key];
let n = 0;
/** The server's own duration of each answered request, from its `x-response-time` header, in ms. */
const serverMs: number[] = [];
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

console.error(`load: ${seconds} s at up to ${rate} req/s over ${connections} connections`);
const result = await autocannon({
  url,
  duration: seconds,
  connections,
  overallRate: rate,
  // Off: the correction adds the time a request would have waited had it been sent on schedule,
  // which is not what any request took and disagrees with the server's own figures.
  ignoreCoordinatedOmission: true,
  requests: [
    {
      method: 'POST',
      path: '/v1/answer',
      setupRequest: (request) => {
        n++;
        // Half the questions repeat (cache hits); the rest are new.
        const question = Math.random() < 0.5 ? `Why ${pick(topics)}?` : `Tell me something about ${pick(topics)} (#${n})`;
        return {
          ...request,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${pick(keys)}`, 'x-correlation-id': `load-${n}` },
          body: JSON.stringify({ question, tier: pick(tiers) }),
        };
      },
      onResponse: (_status, _body, _context, headers) => {
        const header = (headers as Record<string, unknown>)['x-response-time'];
        const ms = typeof header === 'string' ? Number.parseFloat(header) : Number.NaN;
        if (Number.isFinite(ms)) serverMs.push(ms);
      },
    },
  ],
});

for (const t of timers) clearTimeout(t);
if (configure !== undefined) {
  for (const provider of ['alpha', 'beta', 'gamma']) await configure(provider, { down: false, latencyMs: 0, jitterMs: 0, errorRate: 0 }).catch(() => undefined);
}
console.log(autocannon.printResult(result));
const statuses = Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}: ${(s as { count: number }).count}`).join(', ');
console.log(`status codes: ${statuses}`);
const sorted = serverMs.sort((a, b) => a - b);
const at = (q: number): string => (sorted.length === 0 ? 'n/a' : `${sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(1)} ms`);
const client = result.latency as unknown as Record<string, number>;
console.log(`latency, client (no coordinated-omission correction): p50 ${client.p50} ms, p97.5 ${client.p97_5} ms, p99 ${client.p99} ms`);
console.log(`latency, server (x-response-time of ${sorted.length} answers): p50 ${at(0.5)}, p97.5 ${at(0.975)}, p99 ${at(0.99)}`);
await app?.close();
