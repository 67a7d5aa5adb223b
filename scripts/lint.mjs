#!/usr/bin/env node
// `npm run lint`: every static gate, one after another, with one line per gate.
//
//   node scripts/lint.mjs [gate ...]     default: every gate, in this order
//
//   types     npm run check-types     tsc --noEmit in every workspace, tests included
//   eslint    npm run lint:eslint     typescript-eslint's type-checked rules (eslint.config.mjs)
//   knip      npm run lint:knip       unused files, exports and dependencies (knip.json)
//   cycles    npm run lint:cycles     no import cycle in any package's or app's source (dpdm)
//   packages  npm run lint:packages   publint --strict and attw for every public package
//   docs      npm run docs            the TypeDoc API reference builds without a warning
//
// Each gate's command is its package.json script, so it can also be run alone. The gates read
// built packages (type information of @weft/* comes from their dist/*.d.ts, and publint and attw
// pack dist/), so the script first runs `npm run build`; turbo replays it from its cache when
// nothing changed. Every gate runs even after one fails; a failing gate's own output is printed
// under its line, and the script exits 1 if any gate failed.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Gate name to the package.json script that runs it. */
const GATES = {
  types: 'check-types',
  eslint: 'lint:eslint',
  knip: 'lint:knip',
  cycles: 'lint:cycles',
  packages: 'lint:packages',
  docs: 'docs',
};

/** Runs a root package.json script; resolves with its exit code and combined output. */
function run(script) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { cwd: root, env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => resolve({ code: 1, output: `${output}${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? 1, output: signal ? `${output}killed by ${signal}\n` : output }));
  });
}

const seconds = (start) => `${((performance.now() - start) / 1000).toFixed(1)} s`;
const indent = (text) => text.replace(/^/gm, '    ').trimEnd();

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !Object.hasOwn(GATES, name));
if (unknown.length > 0) {
  console.error(`lint: unknown gate ${unknown.join(', ')}; the gates are ${Object.keys(GATES).join(', ')}`);
  process.exit(2);
}
const gates = asked.length > 0 ? asked : Object.keys(GATES);

let start = performance.now();
const build = await run('build');
if (build.code !== 0) {
  console.log(`FAIL  build     ${seconds(start)}  (the gates need built packages)`);
  console.log(indent(build.output));
  process.exit(1);
}
console.log(`ok    build     ${seconds(start)}`);

const failed = [];
for (const name of gates) {
  start = performance.now();
  const { code, output } = await run(GATES[name]);
  console.log(`${code === 0 ? 'ok  ' : 'FAIL'}  ${name.padEnd(8)}  ${seconds(start)}`);
  if (code !== 0) {
    failed.push(name);
    console.log(indent(output));
  }
}
console.log(failed.length === 0 ? `lint: ${gates.length} gates pass` : `lint: ${failed.length} of ${gates.length} gates failed: ${failed.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
