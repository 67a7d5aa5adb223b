import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The soak workspace's folder. */
const SOAK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Compiles the soak workspace with tsc when `dist/<script>` is missing or older than a source file. */
export function ensureBuilt(script: string): string {
  const out = join(SOAK_DIR, 'dist', script);
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.test.ts') ? 0 : statSync(join(dir, e.name)).mtimeMs)));
  if (!existsSync(out) || statSync(out).mtimeMs < newest(join(SOAK_DIR, 'src'))) {
    execFileSync(process.execPath, [join(SOAK_DIR, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(SOAK_DIR, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
  return out;
}
