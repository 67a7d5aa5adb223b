// Builds @weft/core: declarations with tsc, JavaScript with esbuild.
//
// Why esbuild for the JavaScript: tsc emits one ES module per source file (about 80 for the main
// entry), and Node 20's ES module loader costs about a millisecond per module, which made
// `import('@weft/core')` several times a bare `node` start. esbuild bundles each public entry point
// (the main entry and every subpath) with code splitting: modules shared by two entries go into
// shared chunks, so `Primitive` stays one class across subpaths and importing `@weft/core/retry`
// still loads no other primitive. Source maps carry the TypeScript sources (sourcesContent).
import { readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--emitDeclarationOnly'], { stdio: 'inherit' });

// Every folder with an index.ts is a public subpath; internal/ never is.
const entryPoints = [join(src, 'index.ts'), join(src, 'options.ts')];
for (const name of readdirSync(src)) {
  const dir = join(src, name);
  if (name === 'internal' || !statSync(dir).isDirectory()) continue;
  try {
    statSync(join(dir, 'index.ts'));
    entryPoints.push(join(dir, 'index.ts'));
  } catch {
    // not an entry point
  }
}

await build({
  entryPoints,
  outbase: src,
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  sourcesContent: true,
  // Whitespace and syntax only: identifiers keep their names (stack traces read as the source), and
  // the source maps map back. Smaller files parse faster, which is much of what importing Weft costs.
  // WEFT_PROFILE_BUILD=1 keeps line breaks, so a CPU profile's lines point at code one can read.
  minifyWhitespace: !process.env.WEFT_PROFILE_BUILD,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});

execFileSync(process.execPath, [join(root, '..', '..', 'scripts', 'build-package.mjs'), '--stub-only'], { cwd: root, stdio: 'inherit' });
