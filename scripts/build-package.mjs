#!/usr/bin/env node
// Builds the public package in the current directory: a clean dist/ (no stale files from an
// earlier layout reach a tarball), then tsc, unless called with --stub-only (@weft/core bundles
// its JavaScript with esbuild first), then dist/esm-only.cjs.
//
// dist/esm-only.cjs is what `require()` resolves to on a Node.js that cannot require ES modules
// (before 20.19, or with --no-experimental-require-module): it throws a message that says the
// package is ESM-only and shows the import() to use. Newer Nodes match the `module-sync` export
// condition first and load the package itself.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

if (!process.argv.includes('--stub-only')) {
  rmSync('dist', { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

const { name } = JSON.parse(readFileSync('package.json', 'utf8'));
const message = `${name} is ESM-only, and this Node.js cannot require() ES modules (Node 20.19+ and 22.12+ can). From CommonJS, load it with: const weft = await import('${name}');`;
// Its types: what a CommonJS TypeScript project sees, a value whose one key says what to do.
writeFileSync(
  'dist/esm-only.d.cts',
  `/** ${name} is ESM-only: load it with \`await import('${name}')\`. */\ndeclare const esmOnly: { readonly ${JSON.stringify(`ESM-only: use await import('${name}')`)}: never };\nexport = esmOnly;\n`,
);
writeFileSync(
  'dist/esm-only.cjs',
  `'use strict';\n// ${name} ships ES modules only; see dist/index.js.\nconst error = new Error(${JSON.stringify(message)});\nerror.code = 'ERR_REQUIRE_ESM';\nthrow error;\n`,
);
