#!/usr/bin/env node
// Checks every public package (packages/* without "private": true) as a user would install it:
// `npm run lint:publint -- <dir>` (publint --strict: exports, files, types first, ...) and
// `npm run lint:attw -- <dir>` (attw --pack --profile esm-only: the types resolve under node16
// from ESM and under bundlers; the packages are ESM-only, so node10 and node16-from-CJS are not
// asked for, and `require` resolves to dist/esm-only.cjs, which says so). Both pack the package,
// so it must be built first.
//
//   node scripts/check-packages.mjs [packages/<name> ...]    default: every public package
//
// Prints one line per package and tool, the tool's own report under any that fails, and exits 1
// if any failed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The public packages under packages/, as { dir, name }. */
function publicPackages() {
  const dirs = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'packages', d.name, 'package.json')))
    .map((d) => join(root, 'packages', d.name));
  return dirs
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ dir, name: manifest.name }));
}

/** Runs a root package.json script with extra arguments; resolves with its exit code and combined output. */
function run(script, ...args) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => resolve({ code: 1, output: `${output}${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? 1, output: signal ? `${output}killed by ${signal}\n` : output }));
  });
}

/** publint then attw for one package (not concurrently: both pack in the package directory). */
async function check({ dir, name }) {
  const where = relative(root, dir);
  if (!existsSync(join(dir, 'dist'))) {
    return [{ tool: 'build', name, ok: false, output: `${where}/dist is missing: run \`npm run build\` first.\n` }];
  }
  const publint = await run('lint:publint', where);
  const attw = await run('lint:attw', where);
  return [
    { tool: 'publint', name, ok: publint.code === 0, output: publint.output },
    { tool: 'attw', name, ok: attw.code === 0, output: attw.output },
  ];
}

const wanted = process.argv.slice(2).map((p) => relative(root, join(process.cwd(), p)));
const packages = publicPackages().filter(({ dir }) => wanted.length === 0 || wanted.includes(relative(root, dir)));
if (packages.length === 0) {
  console.error(`check-packages: no public package matches ${wanted.length ? wanted.join(', ') : 'packages/*'}`);
  process.exit(1);
}

// A small pool: each check spends most of its time in npm pack and in reading the tarball.
const results = new Array(packages.length);
let next = 0;
const worker = async () => {
  while (next < packages.length) {
    const i = next++;
    results[i] = await check(packages[i]);
  }
};
await Promise.all(Array.from({ length: Math.min(packages.length, Math.max(1, Math.min(4, availableParallelism()))) }, worker));

let failed = 0;
for (const result of results.flat()) {
  console.log(`${result.ok ? 'ok  ' : 'FAIL'}  ${result.tool.padEnd(7)}  ${result.name}`);
  if (!result.ok) {
    failed++;
    console.log(result.output.replace(/^/gm, '      ').trimEnd());
  }
}
console.log(`${packages.length} public packages: ${failed === 0 ? 'publint --strict and attw (esm-only) pass' : `${failed} check(s) failed`}`);
process.exit(failed === 0 ? 0 : 1);
