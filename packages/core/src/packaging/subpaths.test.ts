import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// These run the built package (`npm run build` first) in fresh Node processes, with a resolve hook
// that prints every module URL loaded, so they see exactly what a consumer's import loads.
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const HOOKS = `data:text/javascript,${encodeURIComponent(`
import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  writeSync(2, 'LOADED ' + r.url + '\\n');
  return r;
}`)}`;
const REGISTER = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(HOOKS)});`)}`;

/** Runs `code` as an ES module in a fresh process; returns what it printed and the modules it loaded. */
function loadedBy(code: string): { stdout: string; loaded: string[] } {
  const r = spawnSync(process.execPath, ['--import', REGISTER, '--input-type=module', '-e', code], { cwd: packageDir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  const loaded = [...new Set(r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7)).filter((u) => !u.startsWith('node:')))];
  return { stdout: r.stdout.trim(), loaded };
}

/** Each primitive's subpath, and the function that builds it. */
const PRIMITIVES = {
  retry: 'retry',
  timeout: 'timeout',
  fallback: 'fallback',
  'circuit-breaker': 'circuitBreaker',
  bulkhead: 'bulkhead',
  'rate-limit': 'rateLimit',
  hedge: 'hedge',
  chaos: 'chaos',
  cache: 'cache',
  route: 'route',
  saga: 'saga',
} as const;
type Subpath = keyof typeof PRIMITIVES;
const SUBPATHS = Object.keys(PRIMITIVES) as Subpath[];

/** The primitives whose builder function is defined in the loaded files of @weft/core's dist (esbuild keeps function names). */
function primitivesDefinedIn(urls: readonly string[]): string[] {
  const code = urls.filter((u) => u.includes('/packages/core/dist/')).map((u) => readFileSync(fileURLToPath(u), 'utf8')).join('\n');
  return Object.values(PRIMITIVES).filter((fn) => new RegExp(`(?:^|[^.\\w$])function ${fn}\\(`).test(code));
}

describe('subpath exports', () => {
  it('sanity: the main entry loads the code of every primitive', () => {
    expect(primitivesDefinedIn(loadedBy(`await import('@weft/core');`).loaded).sort()).toEqual(Object.values(PRIMITIVES).sort());
  });

  it.each(SUBPATHS)('@weft/core/%s loads that primitive only, not the others, nor rxjs or zod', (name) => {
    const { loaded } = loadedBy(`await import('@weft/core/${name}');`);
    expect(primitivesDefinedIn(loaded)).toEqual([PRIMITIVES[name]]);
    expect(loaded.filter((u) => /node_modules\/(rxjs|zod|@opentelemetry)\//.test(u))).toEqual([]);
  });

  it('a subpath adds its fluent method, and only its own', () => {
    const { stdout } = loadedBy(`
      const { step } = await import('@weft/core/step');
      await import('@weft/core/retry');
      const s = step('s', (n) => n + 1);
      console.log(JSON.stringify({ retry: typeof s.retry, timeout: typeof s.timeout, out: await s.retry({ retries: 1 }).run(1) }));
    `);
    expect(JSON.parse(stdout)).toEqual({ retry: 'function', timeout: 'undefined', out: 2 });
  });

  it('the main entry has every fluent method and does not load rxjs, zod or @opentelemetry/api', () => {
    const { stdout, loaded } = loadedBy(`
      const { step } = await import('@weft/core');
      const s = step('s', (n) => n);
      console.log(JSON.stringify(['retry', 'timeout', 'fallback', 'circuitBreaker', 'bulkhead', 'rateLimit', 'hedge', 'cache', 'cost', 'budget', 'chaos'].map((m) => typeof s[m])));
    `);
    expect(new Set(JSON.parse(stdout) as string[])).toEqual(new Set(['function']));
    // The OpenTelemetry API loads only once something is registered with it.
    expect(loaded.filter((u) => /node_modules\/(rxjs|zod|@opentelemetry)\//.test(u))).toEqual([]);
  });

  it('@weft/core/events loads rxjs and gives primitives an events stream', () => {
    const { stdout, loaded } = loadedBy(`
      const { step } = await import('@weft/core');
      const { events } = await import('@weft/core/events');
      const s = step('ev', (n) => n);
      const seen = [];
      const sub = s.events.subscribe((e) => seen.push(e.type));
      const all = [];
      const sub2 = events.subscribe((e) => all.push(e.type));
      await s.run(1);
      sub.unsubscribe(); sub2.unsubscribe();
      console.log(JSON.stringify({ seen, all: all.length }));
    `);
    expect(JSON.parse(stdout)).toEqual({ seen: ['run.started', 'step.started', 'step.finished', 'run.finished'], all: 4 });
    expect(loaded.some((u) => /node_modules\/rxjs\//.test(u))).toBe(true);
  });
});
