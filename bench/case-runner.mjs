// Runs one benchmark case in this (fresh) process: its behaviour check (does it really retry, time
// out, break, fall back?), a warm-up, then 5 timed runs of N sequential awaited calls.
// Prints {"medianNs", "runsNs", "iterations", "checked"} as the last stdout line.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [file, name] = process.argv.slice(2);
const mod = await import(join(here, 'cases', file));
const c = mod.cases.find((x) => x.name === name);
if (!c) throw new Error(`no case ${name} in ${file}`);

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const RUNS = 5;
// The check runs first, in this process, on a policy built by the same code as the timed one.
const checked = c.check && process.env.BENCH_NO_CHECK !== "1" ? (await c.check()).flat() : [];
const fn = await c.setup();

async function loop(n) {
  for (let i = 0; i < n; i++) await fn(i);
}

await loop(Math.max(20_000, ITERATIONS / 4)); // warm-up: let the JIT settle
const runsNs = [];
for (let r = 0; r < RUNS; r++) {
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  await loop(ITERATIONS);
  const t1 = process.hrtime.bigint();
  runsNs.push(Number(t1 - t0) / ITERATIONS);
}
await c.teardown?.();
const sorted = [...runsNs].sort((a, b) => a - b);
console.log(JSON.stringify({ medianNs: sorted[Math.floor(RUNS / 2)], runsNs, iterations: ITERATIONS, checked }));
