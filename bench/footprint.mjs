#!/usr/bin/env node
// What a user of @weft/core alone pays: the installed size of a fresh consumer of the packed
// tarball, and the wall time of `import('@weft/core')` in a fresh process as a ratio to a bare
// `node -e ""` (median of N interleaved runs each).
//
//   npm run build && node bench/footprint.mjs [runs=10]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 10);
const core = resolve(fileURLToPath(new URL('../packages/core', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'weft-footprint-'));
try {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: core, encoding: 'utf8' }).trim().split('\n').pop();
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', join(dir, tarball)], { cwd: dir, stdio: 'inherit' });
  const size = (path) => {
    const s = statSync(path);
    if (!s.isDirectory()) return s.size;
    return readdirSync(path).reduce((sum, entry) => sum + size(join(path, entry)), 0);
  };
  const modules = join(dir, 'node_modules');
  const packages = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) packages.push([name, size(join(modules, name))]);
  }
  packages.sort((a, b) => b[1] - a[1]);
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`installed: ${mb(packages.reduce((s, [, b]) => s + b, 0))} (${packages.map(([n, b]) => `${n} ${mb(b)}`).join(', ')})`);

  const time = (args) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const bare = [];
  const imported = [];
  for (let i = 0; i < runs; i++) {
    bare.push(time(['-e', '']));
    imported.push(time(['--input-type=module', '-e', "await import('@weft/core')"]));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = median(imported) / median(bare);
  console.log(`node -e "": ${median(bare).toFixed(0)} ms; import('@weft/core'): ${median(imported).toFixed(0)} ms; ratio ${ratio.toFixed(2)}x (goal <= 1.5x: ${ratio <= 1.5 ? 'met' : 'missed'}; median of ${runs})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
