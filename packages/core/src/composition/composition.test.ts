import { describe, expect, it } from 'vitest';
import { step } from '../step/step.js';
import { sequence } from './sequence.js';
import { parallel } from './parallel.js';
import { branch } from './branch.js';
import { currentContext } from '../internal/ctx.js';
import { isAbortedError } from '../errors/aborted-error.js';

const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

describe('sequence and pipe', () => {
  it('feeds each output into the next input', async () => {
    const parse = step('parse', (s: string) => Number.parseInt(s, 10));
    const double = step('double', (n: number) => n * 2);
    const show = step('show', (n: number) => `=${n}`);
    expect(await sequence(parse, double, show).run('21')).toBe('=42');
    expect(await parse.pipe(double).pipe(show).run('4')).toBe('=8');
  });

  it('stops at the first failure', async () => {
    let third = false;
    const flow = sequence(
      step('a', (n: number) => n),
      step('b', () => {
        throw new Error('b failed');
      }),
      step('c', () => {
        third = true;
      }),
    );
    await expect(flow.run(1)).rejects.toThrow('b failed');
    expect(third).toBe(false);
  });

  it('rejects a sequence of nothing or of non-primitives with a TypeError', () => {
    expect(() => sequence()).toThrow(TypeError);
    expect(() => sequence(step('a', () => 1), {} as never)).toThrow(/`steps\[1\]`/);
  });
});

describe('parallel', () => {
  it('collects outputs as a tuple or a record', async () => {
    const a = step('a', async (n: number) => n + 1);
    const b = step('b', async (n: number) => String(n));
    expect(await parallel([a, b]).run(1)).toEqual([2, '1']);
    expect(await parallel({ x: a, y: b }).run(1)).toEqual({ x: 2, y: '1' });
  });

  it('a failing branch aborts its siblings and rejects with its error', async () => {
    const reasons: unknown[] = [];
    const slow = (name: string) =>
      step(name, async (_: void, ctx) => {
        try {
          await delay(5_000, ctx.signal);
        } catch (e) {
          reasons.push(e);
          throw e;
        }
      });
    const failing = step('failing', async () => {
      await delay(5);
      throw new Error('branch failed');
    });
    const t0 = Date.now();
    await expect(parallel([slow('s1'), failing, slow('s2')]).run(undefined)).rejects.toThrow('branch failed');
    expect(Date.now() - t0).toBeLessThan(1_000);
    await delay(1);
    expect(reasons).toHaveLength(2);
    expect(reasons.every((r) => isAbortedError(r))).toBe(true);
  });

  it('honours concurrency', async () => {
    let active = 0;
    let peak = 0;
    const work = step('work', async () => {
      active++;
      peak = Math.max(peak, active);
      await delay(5);
      active--;
      return 1;
    });
    const out = await parallel([work, work, work, work, work, work], { concurrency: 2 }).run(undefined);
    expect(out).toEqual([1, 1, 1, 1, 1, 1]);
    expect(peak).toBe(2);
  });

  it('rejects a bad concurrency with a TypeError naming it', () => {
    expect(() => parallel([step('a', () => 1)], { concurrency: 0 })).toThrow(/`concurrency`/);
  });

  it('carries the correlation ID into both branches, across awaits and timers', async () => {
    const probe = (name: string) =>
      step(name, async (_: void, ctx) => {
        await Promise.resolve();
        const afterAwait = currentContext()?.correlationId;
        const inTimer = await new Promise<string | undefined>((r) => setTimeout(() => r(currentContext()?.correlationId), 2));
        return [ctx.correlationId, afterAwait, inTimer, currentContext()?.step];
      });
    const out = await sequence(step('first', () => undefined), parallel([probe('left'), probe('right')])).run(undefined, { correlationId: 'corr-7' });
    expect(out).toEqual([
      ['corr-7', 'corr-7', 'corr-7', 'left'],
      ['corr-7', 'corr-7', 'corr-7', 'right'],
    ]);
  });
});

describe('branch', () => {
  it('chooses by predicate, and passes through without an else', async () => {
    const big = step('big', (n: number) => `big ${n}`);
    const small = step('small', (n: number) => `small ${n}`);
    const flow = branch(async (n: number) => n > 10, big, small);
    expect(await flow.run(50)).toBe('big 50');
    expect(await flow.run(5)).toBe('small 5');
    expect(await branch((n: number) => n > 10, big).run(3)).toBe(3);
  });
});

describe('context isolation', () => {
  it('1,000 concurrent runs never see each other\'s context', async () => {
    const probe = step('probe', async (i: number, ctx) => {
      await delay(Math.floor(Math.random() * 5));
      const inner = currentContext();
      await Promise.resolve();
      return { i, arg: ctx.correlationId, store: inner?.correlationId, after: currentContext()?.correlationId, attr: ctx.attributes.i };
    });
    const flow = sequence(probe, step('tail', (x: { i: number; arg: string; store?: string; after?: string; attr: unknown }) => x));
    const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => flow.run(i, { correlationId: `run-${i}`, attributes: { i } })));
    const runIds = new Set<string>();
    results.forEach((r, i) => {
      expect(r).toEqual({ i, arg: `run-${i}`, store: `run-${i}`, after: `run-${i}`, attr: i });
    });
    expect(results).toHaveLength(1_000);
    void runIds;
  });
});
