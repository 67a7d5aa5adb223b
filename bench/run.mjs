// Runs every benchmark case in a fresh process and prints a table of median ns/op,
// each case's ratio to a bare `await` of the same function, and its ratio to the peer case it names.
// Usage: npm run bench [-- <filter>]    (filter: substring of case names)
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

const results = [];
for (const c of selected) {
  const child = spawnSync(process.execPath, ['--expose-gc', join(here, 'case-runner.mjs'), c.file, c.name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) {
    console.error(`case "${c.name}" failed (exit ${child.status})`);
    process.exitCode = 1;
    continue;
  }
  const r = JSON.parse(child.stdout.trim().split('\n').at(-1));
  results.push({ name: c.name, group: c.group ?? '', peer: c.peer, ...r });
  process.stderr.write(`  ${c.name}: ${r.medianNs.toFixed(1)} ns/op\n`);
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
    'overhead ns': bare ? (r.medianNs - bare.medianNs).toFixed(1) : '-',
    'vs peer': peer ? vsPeer(peer, r) : '',
    runs: r.runsNs.map((n) => n.toFixed(0)).join(' '),
  };
});
console.table(rows);

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', 'latest.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, results }, null, 2) + '\n',
);
console.log(`\nwrote bench/results/latest.json (${results.length} cases)`);
