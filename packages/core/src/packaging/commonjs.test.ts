import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The public packages are ESM-only. require() of any of them, and of every subpath, either loads
// it (a Node that can require ES modules matches the `module-sync` condition) or throws a message
// that says so and shows the import() to use (an older Node gets dist/esm-only.cjs).
// These run the built packages (`npm run build` first) in fresh Node processes.
const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const PUBLIC = ['bullmq', 'core', 'http', 'log', 'prometheus', 'redis', 'testing'];

function specifiers(): string[] {
  const out: string[] = [];
  for (const dir of PUBLIC) {
    const pkg = JSON.parse(readFileSync(`${repo}/packages/${dir}/package.json`, 'utf8')) as { name: string; exports: Record<string, unknown> };
    for (const key of Object.keys(pkg.exports)) {
      if (key !== './package.json') out.push(key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
    }
  }
  return out;
}

function requireIn(specifier: string, flags: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...flags, '-e', `const m = require(${JSON.stringify(specifier)}); console.log(Object.keys(m).length)`], {
    cwd: repo,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

describe('require() of the ESM-only packages', () => {
  const all = specifiers();

  it('covers every public entry point', () => {
    expect(all).toContain('@weft/core');
    expect(all).toContain('@weft/core/retry');
    expect(all).toContain('@weft/redis');
  });

  it.each(all)('%s loads where Node can require ES modules', (specifier) => {
    const r = requireIn(specifier, []);
    expect(r.stderr).toBe('');
    expect(Number(r.stdout)).toBeGreaterThan(0);
  });

  it.each(all)('%s says it is ESM-only, with the import() to use, where Node cannot', (specifier) => {
    const r = requireIn(specifier, ['--no-experimental-require-module']);
    expect(r.status).not.toBe(0);
    const name = specifier.split('/').slice(0, 2).join('/');
    expect(r.stderr).toContain(`${name} is ESM-only`);
    expect(r.stderr).toContain(`await import('${name}')`);
  });
});
