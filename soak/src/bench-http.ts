/**
 * HTTP throughput, in one run: a bare Fastify route returning a payload; the same route whose
 * handler runs `step().retry().timeout()` returning it (goal: >= 0.95x bare); and the gateway's
 * cached-answer route (the full workflow: auth, plumbing, span, rate limit, validation, cache hit,
 * metrics; goal: >= 0.85x bare). Each server runs in its own child process (the same layout for
 * all) and autocannon drives it from this process with the same connections and duration; the
 * three are measured in the same run, alternating, and each goal is printed as MET or MISSED.
 *
 *   node dist/bench-http.js [--seconds 10] [--warmup 3] [--connections 32] [--rounds 3] [--log-level warn]
 *
 * The last stdout line is a JSON report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
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
  /** The server process's CPU time so far (user + system) in µs, where /proc tells it; else undefined. */
  cpuUs(): number | undefined;
  stop(): Promise<void>;
}

/** A process's user + system CPU time in µs from /proc (Linux), at clock-tick resolution. */
function cpuOf(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return undefined;
  }
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
          cpuUs: () => cpuOf(child.pid),
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

type Measured = Awaited<ReturnType<typeof drive>> & { readonly cpuUsPerRequest: number | undefined };

async function measure(name: 'gateway' | 'bare' | 'bare-als' | 'step', args: string[]): Promise<Measured> {
  const server = await start(args);
  try {
    await drive(server.url, WARMUP);
    const cpu0 = server.cpuUs();
    const r = await drive(server.url, SECONDS);
    const cpu1 = server.cpuUs();
    // The server's own CPU per request: unlike req/s, it does not move when the client or another
    // process on the machine is the bottleneck.
    const result = { ...r, cpuUsPerRequest: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / r.requests };
    console.error(`bench:http: ${name.padEnd(7)} ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, server CPU ${result.cpuUsPerRequest?.toFixed(1) ?? '?'} µs/request, non-2xx ${result.non2xx}, errors ${result.errors}`);
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
const gateway: Measured[] = [];
const bare: Measured[] = [];
const stepped: Measured[] = [];
const floor: Measured[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bare.push(await measure('bare', ['bare', payload]));
  stepped.push(await measure('step', ['step', payload]));
  floor.push(await measure('bare-als', ['bare-als', payload]));
  // The gateway primes its cache with one request during warm-up: every measured request is a hit.
  gateway.push(await measure('gateway', ['gateway']));
}
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const gatewayRps = mean(gateway.map((r) => r.rps));
const bareRps = mean(bare.map((r) => r.rps));
const stepRps = mean(stepped.map((r) => r.rps));
const ratio = gatewayRps / bareRps;
const cpu = (rs: Measured[]): number => mean(rs.map((r) => r.cpuUsPerRequest ?? NaN));
const [bareCpu, stepCpu, gatewayCpu, floorCpu] = [cpu(bare), cpu(stepped), cpu(gateway), cpu(floor)];
const floorRps = mean(floor.map((r) => r.rps));
const stepRatio = stepRps / bareRps;
const valid = [...gateway, ...bare, ...stepped, ...floor].every((r) => r.non2xx === 0 && r.errors === 0);
const line = (met: boolean, text: string): string => `${met ? 'MET   ' : 'MISSED'} ${text}`;
console.log(`\nHTTP goals (issue 19), ${ROUNDS} rounds of ${SECONDS} s at ${CONNECTIONS} connections, mean req/s:`);
console.log(line(stepRatio >= 0.95, `step().retry().timeout() route >= 0.95x bare Fastify: ${stepRatio.toFixed(3)}x (${Math.round(stepRps)} / ${Math.round(bareRps)} req/s, ${(1e6 / stepRps - 1e6 / bareRps).toFixed(1)} µs of server time more per request)`));
console.log(line(ratio >= 0.85, `gateway cache hit >= 0.85x bare Fastify: ${ratio.toFixed(3)}x (${Math.round(gatewayRps)} / ${Math.round(bareRps)} req/s)`));
console.log(`       server CPU per request: bare ${bareCpu.toFixed(1)} µs, step ${stepCpu.toFixed(1)} µs (${(stepCpu / bareCpu).toFixed(2)}x), gateway ${gatewayCpu.toFixed(1)} µs (${(gatewayCpu / bareCpu).toFixed(2)}x)`);
console.log(`       bare Fastify with its handler in AsyncLocalStorage.run (Node's floor for carrying a run context): ${Math.round(floorRps)} req/s (${(floorRps / bareRps).toFixed(3)}x bare), ${floorCpu.toFixed(1)} µs CPU/request; the step route is ${(stepRps / floorRps).toFixed(3)}x its req/s`);
console.log(JSON.stringify({ floor, floorRps, floorCpuUs: floorCpu, bareCpuUs: bareCpu, stepCpuUs: stepCpu, gatewayCpuUs: gatewayCpu, seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS, rounds: ROUNDS, logLevel: LOG_LEVEL, gateway, bare, step: stepped, gatewayRps, bareRps, stepRps, ratio, stepRatio, goalMet: ratio >= 0.85, stepGoalMet: stepRatio >= 0.95, valid }));
process.exitCode = valid ? 0 : 1;
