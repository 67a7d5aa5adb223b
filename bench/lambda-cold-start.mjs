// Cold start of a Lambda handler module: the time to import it in a fresh Node process (what the
// init phase pays), for a bare handler, a handler built with @weft/lambda + @weft/core, and the
// answer-lambda example (which also loads zod and the gateway's provider code). Samples are taken
// in fresh processes, interleaved, and the median is reported with its ratio to the bare handler.
// Usage: npm run bench:lambda [-- <samples>]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const samples = Number(process.argv[2] ?? 15);
const cases = [
  { name: 'bare handler', file: join(here, 'lambda/bare-handler.mjs') },
  { name: '@opentelemetry/api only', file: join(here, 'lambda/otel-handler.mjs') },
  { name: '@weft/core step, no adapter', file: join(here, 'lambda/core-handler.mjs') },
  { name: '@weft/lambda + @weft/core handler', file: join(here, 'lambda/weft-handler.mjs') },
  { name: 'apps/answer-lambda handler', file: join(here, '../apps/answer-lambda/dist/handler.js') },
];
const probe = (file) => `const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); const ms = performance.now() - t; if (typeof m.handler !== 'function') throw new Error('no handler'); console.log(JSON.stringify({ ms }));`;
const env = { ...process.env, ANSWER_PROVIDERS: JSON.stringify([{ name: 'alpha', baseUrl: 'http://127.0.0.1:9/v1', model: 'gpt-4o-mini' }]), REDIS_URL: '' };

const times = new Map(cases.map((c) => [c.name, []]));
for (let i = 0; i < samples; i++) {
  for (const c of cases) {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', probe(c.file)], { encoding: 'utf8', env, cwd: join(here, '..') });
    if (child.status !== 0) throw new Error(`${c.name}: ${child.stderr}`);
    times.get(c.name).push(JSON.parse(child.stdout.trim().split('\n').at(-1)).ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bare = median(times.get('bare handler'));
console.log(`Lambda cold start: import time of the handler module, median of ${samples} fresh processes (Node ${process.version})`);
for (const c of cases) {
  const m = median(times.get(c.name));
  console.log(`  ${c.name.padEnd(40)} ${m.toFixed(1).padStart(7)} ms   ${(m / bare).toFixed(1)}x bare   (+${(m - bare).toFixed(1)} ms)`);
}
