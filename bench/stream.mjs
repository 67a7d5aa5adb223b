// Per-chunk overhead of a streaming chain (streamStep + timeout + retry, with the Prometheus
// collector on) against a bare async-iterator pass-through, and the time-to-first-chunk overhead.
// Each case runs in a fresh process (so one case's JIT state cannot slow the other), cases
// interleaved, best of several rounds. Usage: npm run bench:stream
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const CHUNKS = 200_000;
const FIRST = 20_000;
const ROUNDS = 5;

if (process.argv[2] === '--case') {
  const kind = process.argv[3];
  async function* source(n) {
    for (let i = 0; i < n; i++) yield i;
  }
  async function* passThrough(src) {
    for await (const c of src) yield c;
  }
  /** Warms up, then measures the per-chunk cost and the time to a new stream's first chunk. */
  async function measure(open) {
    for (let i = 0; i < 3; i++) for await (const _ of open(10_000));
    let t = performance.now();
    let sum = 0;
    for await (const c of open(CHUNKS)) sum += c;
    if (sum !== (CHUNKS * (CHUNKS - 1)) / 2) throw new Error('lost chunks');
    const perChunkNs = ((performance.now() - t) * 1e6) / CHUNKS;
    t = performance.now();
    for (let i = 0; i < FIRST; i++) for await (const _ of open(1)) break;
    return { perChunkNs, firstUs: ((performance.now() - t) * 1e3) / FIRST };
  }
  let result;
  if (kind === 'floor') {
    // The same pass-through with an AsyncLocalStorage context active, as every Weft run has one:
    // Node then runs its promise hooks on every await, a cost Weft pays and a bare loop does not.
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const als = new AsyncLocalStorage();
    result = await als.run({}, () => measure((n) => als.run({}, () => passThrough(source(n)))));
  } else if (kind === 'weft') {
    const { streamStep } = await import('@weft/core/stream');
    const { WeftCollector } = await import('@weft/prometheus');
    const { Registry } = await import('prom-client');
    new WeftCollector({ registry: new Registry() }).start();
    const chain = streamStep('tokens', (n) => source(n)).timeout({ firstChunkMs: 10_000, idleMs: 10_000 }).retry({ retries: 2 });
    result = await measure((n) => chain.stream(n));
  } else result = await measure((n) => passThrough(source(n)));
  console.log(JSON.stringify(result));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const best = { bare: { perChunkNs: Infinity, firstUs: Infinity }, floor: { perChunkNs: Infinity, firstUs: Infinity }, weft: { perChunkNs: Infinity, firstUs: Infinity } };
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of ['bare', 'floor', 'weft']) {
    const out = spawnSync(process.execPath, [self, '--case', kind], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`${kind} failed: ${out.stderr}`);
    const m = JSON.parse(out.stdout.trim().split('\n').at(-1));
    best[kind].perChunkNs = Math.min(best[kind].perChunkNs, m.perChunkNs);
    best[kind].firstUs = Math.min(best[kind].firstUs, m.firstUs);
  }
}
const ratio = best.weft.perChunkNs / best.bare.perChunkNs;
console.log(`\nstreaming, Node ${process.version}, a fresh process per case, best of ${ROUNDS} interleaved rounds\n`);
console.log('| case | bare pass-through | streamStep + timeout + retry + metrics | ratio |');
console.log('|---|---:|---:|---:|');
console.log(`| per chunk (${CHUNKS} chunks) | ${best.bare.perChunkNs.toFixed(0)} ns | ${best.weft.perChunkNs.toFixed(0)} ns | ${ratio.toFixed(2)}x |`);
console.log(`| to first chunk (a new stream) | ${best.bare.firstUs.toFixed(2)} µs | ${best.weft.firstUs.toFixed(2)} µs | ${(best.weft.firstUs / best.bare.firstUs).toFixed(2)}x |`);
console.log(`\nthe same pass-through inside an AsyncLocalStorage context (Node's promise hooks on, as in every Weft run): ${best.floor.perChunkNs.toFixed(0)} ns per chunk; Weft is ${(best.weft.perChunkNs / best.floor.perChunkNs).toFixed(2)}x that`);
console.log(`\ngoal: per chunk at most 1.2x the bare pass-through: ${ratio <= 1.2 ? 'met' : 'missed'} (${ratio.toFixed(2)}x)`);
