/**
 * HTTP throughput of the gateway's cached-answer route (the full workflow: auth, plumbing, span,
 * rate limit, validation, cache hit, metrics) against a bare Fastify route returning the same
 * payload. Each server runs in its own child process (the same layout for both) and autocannon
 * drives it from this process; both are measured in the same run, alternating, and the ratio of
 * requests per second is printed. Goal: >= 0.85.
 *
 *   node dist/bench-http.js [--seconds 10] [--warmup 3] [--connections 32] [--rounds 2] [--log-level warn]
 *
 * The last stdout line is a JSON report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const positive = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`bench:http: Expected \`--${name}\` to be a positive integer, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
};
const SECONDS = positive('seconds', values.seconds);
const WARMUP = positive('warmup', values.warmup);
const CONNECTIONS = positive('connections', values.connections);
const ROUNDS = positive('rounds', values.rounds);
const LOG_LEVEL = values['log-level'];
const KEY = 'bench-key-0123456789';
const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'bench-http-server.js');
const REQUEST = { question: 'Why is the sky blue?', tier: 'standard' };
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };

interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

function start(args: string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [SERVER, ...args], { env: { ...process.env, LOG_LEVEL, BENCH_KEY: KEY }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({
          url: `http://127.0.0.1:${m[1]}`,
          stop: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`server ${args[0]} exited with ${code} before listening`)));
  });
}

async function drive(url: string, seconds: number): Promise<{ rps: number; p50: number; p99: number; non2xx: number; errors: number; requests: number }> {
  const r = await autocannon({ url: `${url}/v1/answer`, method: 'POST', headers: HEADERS, body: JSON.stringify(REQUEST), connections: CONNECTIONS, duration: seconds });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, requests: r.requests.total };
}

async function measure(name: 'gateway' | 'bare', args: string[]): Promise<Awaited<ReturnType<typeof drive>>> {
  const server = await start(args);
  try {
    await drive(server.url, WARMUP);
    const result = await drive(server.url, SECONDS);
    console.error(`bench:http: ${name.padEnd(7)} ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`);
    return result;
  } finally {
    await server.stop();
  }
}

// The payload the bare route returns: the gateway's own cached answer to the same question.
const probe = await start(['gateway']);
let payload: string;
try {
  const ask = () => fetch(`${probe.url}/v1/answer`, { method: 'POST', headers: HEADERS, body: JSON.stringify(REQUEST) });
  const first = await ask();
  if (first.status !== 200) throw new Error(`the gateway answered ${first.status}: ${await first.text()}`);
  const cached = (await (await ask()).json()) as { cached: boolean };
  if (!cached.cached) throw new Error('the second answer to the same question was not served from the cache');
  payload = JSON.stringify(cached);
} finally {
  await probe.stop();
}

console.error(`bench:http: ${ROUNDS} rounds of ${SECONDS} s (after ${WARMUP} s warm-up) at ${CONNECTIONS} connections; gateway LOG_LEVEL=${LOG_LEVEL}`);
const gateway: Array<Awaited<ReturnType<typeof drive>>> = [];
const bare: Array<Awaited<ReturnType<typeof drive>>> = [];
for (let round = 0; round < ROUNDS; round++) {
  // The gateway primes its cache with one request during warm-up: every measured request is a hit.
  gateway.push(await measure('gateway', ['gateway']));
  bare.push(await measure('bare', ['bare', payload]));
}
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const gatewayRps = mean(gateway.map((r) => r.rps));
const bareRps = mean(bare.map((r) => r.rps));
const ratio = gatewayRps / bareRps;
const valid = gateway.every((r) => r.non2xx === 0 && r.errors === 0) && bare.every((r) => r.non2xx === 0 && r.errors === 0);
console.error(`bench:http: gateway ${Math.round(gatewayRps)} req/s / bare Fastify ${Math.round(bareRps)} req/s = ratio ${ratio.toFixed(3)} (goal >= 0.85: ${ratio >= 0.85 ? 'met' : 'NOT met'})`);
console.log(JSON.stringify({ seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS, rounds: ROUNDS, logLevel: LOG_LEVEL, gateway, bare, gatewayRps, bareRps, ratio, goalMet: ratio >= 0.85, valid }));
process.exitCode = valid ? 0 : 1;
