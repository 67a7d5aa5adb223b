// Runs every benchmark case in a fresh process (each first checked to really retry, time out,
// break and fall back where it claims to), prints a table of median ns/op, each case's ratio to a
// bare `await` of the same function and to the peer case it names, then the heap over 1e6 runs,
// and every goal of issue 19 as MET or MISSED with its ratio.
// Usage: npm run bench [-- <filter>]    (filter: substring of case names; BENCH_PASSES=n passes, default 3; BENCH_HEAP_RUNS=0 skips the heap run)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(join(here, 'cases')).filter((f) => f.endsWith('.mjs')).sort();

const cases = [];
for (const file of files) {
  const mod = await import(join(here, 'cases', file));
  for (const c of mod.cases) cases.push({ file, ...c });
}
const selected = cases.filter((c) => c.name === 'bare call' || c.name.includes(filter));

// Cases are interleaved over several passes (a fresh process each time), and each case's figure is
// the median of its passes' medians: a burst of load on this shared machine then moves one pass of
// every case a little rather than one case a lot.
const PASSES = Math.max(1, Number(process.env.BENCH_PASSES ?? 3));
const perCase = new Map(selected.map((c) => [c.name, []]));
for (let pass = 1; pass <= PASSES; pass++) {
  for (const c of selected) {
    if (perCase.get(c.name) === undefined) continue;
    const child = spawnSync(process.execPath, ['--expose-gc', join(here, 'case-runner.mjs'), c.file, c.name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_NO_CHECK: pass === 1 ? process.env.BENCH_NO_CHECK ?? '' : '1' } });
    if (child.status !== 0) {
      console.error(`case "${c.name}" failed (exit ${child.status})`);
      process.exitCode = 1;
      perCase.delete(c.name);
      continue;
    }
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1));
    perCase.get(c.name).push(r);
    process.stderr.write(`  pass ${pass}/${PASSES} ${c.name}: ${r.medianNs.toFixed(1)} ns/op${r.checked.length ? ` (checked: ${r.checked.join('; ')})` : ''}\n`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const c of selected) {
  const passes = perCase.get(c.name);
  if (!passes?.length) continue;
  results.push({ name: c.name, group: c.group ?? '', peer: c.peer, medianNs: median(passes.map((p) => p.medianNs)), runsNs: passes.map((p) => p.medianNs), iterations: passes[0].iterations, checked: passes[0].checked });
}

const bare = results.find((r) => r.name === 'bare call');
/** "3.10x faster than X" or "1.80x slower than X", so a ratio never reads as "0.3x faster". */
function vsPeer(peer, r) {
  const ratio = peer.medianNs / r.medianNs;
  return ratio >= 1 ? `${ratio.toFixed(2)}x faster than "${peer.name}"` : `${(1 / ratio).toFixed(2)}x slower than "${peer.name}"`;
}
const byName = new Map(results.map((r) => [r.name, r]));
const rows = results.map((r) => {
  const peer = r.peer ? byName.get(r.peer) : undefined;
  return {
    case: r.name,
    'ns/op (median)': r.medianNs.toFixed(1),
    'x bare': bare ? (r.medianNs / bare.medianNs).toFixed(2) : '-',
    'vs peer': peer ? vsPeer(peer, r) : '',
    'pass medians': r.runsNs.map((n) => n.toFixed(0)).join(' '),
  };
});
console.table(rows);

// Heap over 1e6 runs of the full chain with metrics on, in its own process.
const heapRuns = Number(process.env.BENCH_HEAP_RUNS ?? 1_000_000);
let heap;
if (heapRuns > 0 && filter === '') {
  const child = spawnSync(process.execPath, ['--expose-gc', join(here, 'heap.mjs'), String(heapRuns)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status === 0) heap = JSON.parse(child.stdout.trim().split('\n').at(-1));
  else {
    console.error(`heap run failed (exit ${child.status})`);
    process.exitCode = 1;
  }
}

// The goals of issue 19, each a ratio of two cases measured in this run.
const ns = (name) => byName.get(name)?.medianNs;
const goals = [];
/** `ratio` is a/b; the goal is met when `ok(ratio)`. */
function goal(text, a, b, ok, show = (r) => `${r.toFixed(2)}x`) {
  const x = ns(a);
  const y = ns(b);
  if (x === undefined || y === undefined) return;
  const ratio = x / y;
  goals.push({ goal: text, ratio, met: ok(ratio), line: `${ok(ratio) ? 'MET   ' : 'MISSED'} ${text}: ${show(ratio)} ("${a}" ${x.toFixed(0)} ns / "${b}" ${y.toFixed(0)} ns)` });
}
const UNREAD = 'weft retry(3)+timeout(1s), signal unread';
const READ = 'weft retry(3)+timeout(1s), signal read';
const ON = 'chain retry+timeout+breaker+fallback+cache-miss, metrics on';
const OFF = 'chain retry+timeout+breaker+fallback+cache-miss, metrics off';
const faster = (r) => `${r.toFixed(2)}x faster`;
goal('retry+timeout, signal unread <= 1.3x the Node floor', UNREAD, 'node floor: ALS.run + setTimeout/clearTimeout + await', (r) => r <= 1.3);
goal('retry+timeout, signal read >= 3x faster than cockatiel', 'cockatiel wrap(retry, timeout), signal read', READ, (r) => r >= 3, faster);
goal('retry+timeout, signal read >= 3x faster than effect@4 tryPromise', 'effect@4 tryPromise+timeout(1s)+retry(3), signal read', READ, (r) => r >= 3, faster);
goal('full chain, metrics on <= 1.25x metrics off', ON, OFF, (r) => r <= 1.25);
goal('full chain (metrics on) >= 3x faster than cockatiel wrap(fallback, breaker, retry, timeout)', 'cockatiel wrap(fallback, circuitBreaker, retry, timeout)', ON, (r) => r >= 3, faster);
goal('cache hit through the primitive <= 2x a raw lru-cache get + await', 'weft cache hit (string key), primitive only', 'raw lru-cache get + await', (r) => r <= 2);
// Reported beside the goals, not goals of their own.
const info = [];
const also = (text, a, b) => ns(a) !== undefined && ns(b) !== undefined && info.push(`       ${text}: ${(ns(a) / ns(b)).toFixed(2)}x`);
also('retry+timeout, signal unread, faster than cockatiel', 'cockatiel wrap(retry, timeout)', UNREAD);
also('retry+timeout, signal unread, faster than effect@4', 'effect@4 tryPromise+timeout(1s)+retry(3), signal unread', UNREAD);
also('retry+timeout, signal unread, x a bare call', UNREAD, 'bare call');
also('cache hit through run(), x a raw lru-cache get + await', 'weft cache hit (string key), full run()', 'raw lru-cache get + await');
also('cache hit through the primitive, x a raw lru-cache get + await with AsyncLocalStorage on (as in any process running Weft)', 'weft cache hit (string key), primitive only', 'raw lru-cache get + await, AsyncLocalStorage on');
if (heap) {
  const ok = Math.abs(heap.growth) <= 0.05 && heap.unhandled === 0 && heap.handlesLeft.length === 0;
  goals.push({
    goal: 'heap flat within +-5% over 1e6 runs, no unhandled rejection, no handle left',
    ratio: 1 + heap.growth,
    met: ok,
    line: `${ok ? 'MET   ' : 'MISSED'} heap over ${heap.runs} chain runs (metrics on) within +-5%: ${(heap.growth * 100).toFixed(2)}% (mean of the first three of ten samples ${(heap.startBytes / 1e6).toFixed(2)} MB -> last three ${(heap.endBytes / 1e6).toFixed(2)} MB; samples ${heap.samples.map((b) => (b / 1e6).toFixed(2)).join(' ')} MB), unhandled rejections ${heap.unhandled}, handles left ${heap.handlesLeft.length ? heap.handlesLeft.join(', ') : 'none'}`,
  });
}
console.log(`\ngoals (issue 19), Node ${process.version}, ${os.cpus().length} cores, a fresh process per case:`);
for (const g of goals) console.log(g.line);
for (const l of info) console.log(l);

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', 'latest.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, results, heap, goals: goals.map(({ line, ...g }) => g) }, null, 2) + '\n',
);
console.log(`\nwrote bench/results/latest.json (${results.length} cases)`);
