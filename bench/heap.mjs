// Heap over 1e6 runs of the full chain (retry + timeout + breaker + fallback + cache miss, metrics
// on): heapUsed after a full GC every 10% of the runs, any unhandled rejection, and the handles
// left once the runs are done. Bounded structures (the LRU, the cache's key memo, which is cleared
// when full) make the heap a sawtooth, so growth compares the mean of the last three samples with
// the mean of the first three rather than two single points. Prints one JSON line. Usage: node --expose-gc bench/heap.mjs [runs]
import * as core from '@weft/core';
import { createWeftMetrics } from '@weft/prometheus';
import { Registry } from 'prom-client';

const RUNS = Number(process.argv[2] ?? 1_000_000);
let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);

const { step, retry, timeout, circuitBreaker, fallback, cache } = core;
const collector = createWeftMetrics({ registry: new Registry() });
const flow = cache(fallback(circuitBreaker(retry(timeout(step('quote', (n) => n + 1), 1_000), { retries: 2 }), { name: 'quotes' }), () => 0), { namespace: 'quotes', max: 1_000 });

const count = () => process.getActiveResourcesInfo().reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map());
const before = count();
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const samples = [];
for (let i = 1; i <= RUNS; i++) {
  await flow.run(i, { workflow: 'pricing' });
  if (i % (RUNS / 10) === 0) samples.push(heap());
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const start = mean(samples.slice(0, 3));
const end = mean(samples.slice(-3));
await new Promise((r) => setImmediate(r));
const left = [...count()].filter(([r, n]) => n > (before.get(r) ?? 0)).map(([r, n]) => `${r} +${n - (before.get(r) ?? 0)}`);
collector.stop();
console.log(JSON.stringify({ runs: RUNS, startBytes: start, endBytes: end, growth: end / start - 1, samples, unhandled, handlesLeft: left }));
