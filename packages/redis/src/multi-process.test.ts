import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanUp, describeWith, REDIS_URL, redisReachable, testRedis } from './test-support/redis.js';
import type { WeftRedis } from './weft-redis.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const worker = join(packageDir, 'test-fixtures', 'worker.mjs');

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: Array<Record<string, unknown>>;
  readonly stderr: string;
}

/** Runs one worker process; resolves when it exits, with the JSON lines it printed. */
function runWorker(prefix: string, scenario: string, args: object, onLine?: (line: Record<string, unknown>, child: ChildProcess) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, scenario, JSON.stringify(args)], {
      env: { ...process.env, REDIS_URL, WEFT_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let i: number;
      while ((i = out.indexOf('\n')) >= 0) {
        const text = out.slice(0, i);
        out = out.slice(i + 1);
        try {
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          onLine?.(line, child);
        } catch {
          // not ours
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
}

function result(o: Outcome): Record<string, unknown> {
  const last = o.lines[o.lines.length - 1];
  if (o.code !== 0 || last?.ok !== true) throw new Error(`worker failed (exit ${o.code}): ${JSON.stringify(last)} ${o.stderr}`);
  return last;
}

describeWith('redis', 'two processes sharing one Redis', await redisReachable(), () => {
  let redis: WeftRedis;
  const counter = (name: string) => redis.command<string | null>(['GET', redis.key('count', name)]).then((v) => Number(v ?? 0));

  beforeAll(() => {
    // The workers run the built package, as a service would.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(packageDir, 'tsconfig.build.json')], { stdio: 'inherit' });
    redis = testRedis('multi');
    return redis.ready();
  });
  afterAll(async () => {
    await cleanUp(redis);
    await redis.close();
  });

  it('serves a value cached by one process as a hit in the other', async () => {
    const first = result(await runWorker(redis.prefix, 'cache', { id: 'u-1' }));
    const second = result(await runWorker(redis.prefix, 'cache', { id: 'u-1' }));
    expect(second.values).toEqual(first.values);
    expect(await counter('lookup')).toBe(1);
  });

  it('computes concurrent identical misses in both processes once', async () => {
    const startAt = Date.now() + 1_500;
    const args = { id: 'u-2', calls: 5, workMs: 300, startAt };
    const [a, b] = await Promise.all([runWorker(redis.prefix, 'cache', args), runWorker(redis.prefix, 'cache', args)]);
    const values = [...(result(a).values as unknown[]), ...(result(b).values as unknown[])];
    expect(new Set(values.map((v) => JSON.stringify(v))).size).toBe(1);
    expect(await counter('lookup')).toBe(2); // 1 from the previous test, 1 here
  });

  it('never overspends a shared budget when estimates cover the cost', async () => {
    const args = { limit: 20, cost: 1, estimate: 1, attempts: 30, concurrency: 4, startAt: Date.now() + 1_500 };
    const [a, b] = (await Promise.all([runWorker(redis.prefix, 'budget', args), runWorker(redis.prefix, 'budget', args)])).map(result);
    expect((a!.admitted as number) + (b!.admitted as number)).toBe(20);
  });

  it('overspends a shared budget by at most one step per call in flight with no estimate', async () => {
    const { RedisBudgetStore } = await import('./budget/redis-budget-store.js');
    await new RedisBudgetStore(redis).reset('shared');
    // Two processes, one call in flight each: the documented bound is 2 steps' cost beyond the limit.
    const args = { limit: 10, cost: 1, estimate: 0, attempts: 20, concurrency: 1, workMs: 20, startAt: Date.now() + 1_500 };
    const [a, b] = (await Promise.all([runWorker(redis.prefix, 'budget', args), runWorker(redis.prefix, 'budget', args)])).map(result);
    const spent = (a!.admitted as number) + (b!.admitted as number);
    expect(spent).toBeGreaterThanOrEqual(10);
    expect(spent).toBeLessThanOrEqual(10 + 2);
  });

  it('holds a shared rate limit within tolerance across both processes', async () => {
    const args = { rate: 20, per: 1_000, burst: 5, durationMs: 2_000, startAt: Date.now() + 1_500 };
    const [a, b] = (await Promise.all([runWorker(redis.prefix, 'ratelimit', args), runWorker(redis.prefix, 'ratelimit', args)])).map(result);
    const allowed = (a!.allowed as number) + (b!.allowed as number);
    const expected = args.burst + (args.rate * args.durationMs) / args.per; // 45
    expect(allowed).toBeLessThanOrEqual(expected + 2);
    expect(allowed).toBeGreaterThanOrEqual(expected * 0.8);
    // Each process alone would have allowed nearly the whole rate: sharing is what holds it.
    expect(a!.limited as number).toBeGreaterThan(0);
    expect(b!.limited as number).toBeGreaterThan(0);
  });

  it('compensates exactly once the saga of a process killed with SIGKILL mid-saga, the step in flight included', async () => {
    const crashed = await runWorker(redis.prefix, 'saga-crash', { sagaId: 'order-77' }, (line, child) => {
      if (line.inStep === 'charge') child.kill('SIGKILL');
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(await counter('released')).toBe(0);
    const startAt = Date.now() + 1_000;
    const recoverers = (await Promise.all([runWorker(redis.prefix, 'saga-recover', { startAt }), runWorker(redis.prefix, 'saga-recover', { startAt })])).map(result);
    const recovered = recoverers.flatMap((r) => r.results as unknown[]);
    expect(recovered).toEqual([{ sagaId: 'order-77', outcome: 'compensated' }]);
    expect(await counter('released')).toBe(1);
    // The charge was in flight at the kill: its outcome is unknown, so it is compensated too.
    expect(await counter('refunded-unknown')).toBe(1);
    // A later start-up finds nothing left to do.
    const again = result(await runWorker(redis.prefix, 'saga-recover', {}));
    expect(again.results).toEqual([]);
    expect(await counter('released')).toBe(1);
  });
});
