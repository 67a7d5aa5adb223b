/**
 * `npm run generate`: writes the dashboards, rule files, promtool tests and runbooks from
 * `src/config.ts`, and removes generated files that no longer have a source. `--out <dir>` writes
 * under another root instead of the repository.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG } from './config.js';
import { generateFiles, PATHS } from './generate.js';

const outFlag = process.argv.indexOf('--out');
const root = outFlag >= 0 && process.argv[outFlag + 1] !== undefined ? resolve(process.argv[outFlag + 1]!) : resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const files = generateFiles(CONFIG);
for (const dir of [PATHS.dashboards, PATHS.tests, PATHS.runbooks]) {
  let existing: string[] = [];
  try {
    existing = readdirSync(join(root, dir));
  } catch {
    // first run
  }
  for (const name of existing) if (!files.has(`${dir}/${name}`)) rmSync(join(root, dir, name));
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
console.log(`wrote ${files.size} files under ${root}`);
