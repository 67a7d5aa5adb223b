import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { hedge } from './hedge.js';
import { step } from '../index.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { isAbortedError } from '../errors/aborted-error.js';

/** How attempt n behaves: settles after `ms`, with its attempt number or an error. */
interface Plan {
  readonly ms: number;
  readonly ok: boolean;
}

interface Seen {
  attempt: number;
  signal: AbortSignal;
}

/** A step whose attempt n follows plans[n - 1], honours its signal, and records what it saw. */
function planned(plans: readonly Plan[], seen: Seen[] = []) {
  return step('work', (_: void, ctx) => {
    const plan = plans[ctx.attempt - 1] ?? { ms: 1, ok: true };
    const signal = ctx.signal;
    seen.push({ attempt: ctx.attempt, signal });
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        if (plan.ok) resolve(ctx.attempt);
        else reject(new Error(`attempt ${ctx.attempt} failed`));
      }, plan.ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  });
}

function record(): { list: WeftEvent[]; stop: () => void } {
  const list: WeftEvent[] = [];
  const sub = events.subscribe((e) => {
    if (e.type.startsWith('hedge.')) list.push(e);
  });
  return { list, stop: () => sub.unsubscribe() };
}

describe('hedge', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns the first attempt when it beats the delay, without hedging', async () => {
    const seen: Seen[] = [];
    const rec = record();
    const p = hedge(planned([{ ms: 50, ok: true }], seen), { delayMs: 100 }).run();
    await vi.advanceTimersByTimeAsync(50);
    expect(await p).toBe(1);
    rec.stop();
    expect(seen.map((s) => s.attempt)).toEqual([1]);
    expect(seen[0]!.signal.aborted).toBe(false);
    expect(rec.list.map((e) => e.type)).toEqual(['hedge.won']);
    expect(rec.list[0]).toMatchObject({ attempt: 1, hedged: false, primitive: 'hedge', step: 'work' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts a second attempt after the delay and keeps the faster one, aborting the slow one', async () => {
    const seen: Seen[] = [];
    const rec = record();
    const p = hedge(planned([{ ms: 1_000, ok: true }, { ms: 20, ok: true }], seen), { delayMs: 100 }).run();
    await vi.advanceTimersByTimeAsync(99);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(20);
    expect(await p).toBe(2);
    rec.stop();
    expect(seen[0]!.signal.aborted).toBe(true);
    expect(isAbortedError(seen[0]!.signal.reason)).toBe(true);
    expect(seen[1]!.signal.aborted).toBe(false);
    expect(rec.list.map((e) => e.type)).toEqual(['hedge.started', 'hedge.won']);
    expect(rec.list[0]).toMatchObject({ attempt: 2, delayMs: 100, trigger: 'delay' });
    expect(rec.list[1]).toMatchObject({ attempt: 2, hedged: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps the first attempt when it still wins after a hedge started, aborting the hedge', async () => {
    const seen: Seen[] = [];
    const p = hedge(planned([{ ms: 150, ok: true }, { ms: 1_000, ok: true }], seen), { delayMs: 100 }).run();
    await vi.advanceTimersByTimeAsync(150);
    expect(await p).toBe(1);
    expect(seen.map((s) => s.signal.aborted)).toEqual([false, true]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('numbers the attempts 1, 2, 3 and stops at maxAttempts', async () => {
    const seen: Seen[] = [];
    const slow = { ms: 10_000, ok: true };
    const p = hedge(planned([slow, slow, slow, slow], seen), { delayMs: 10, maxAttempts: 3 }).run();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await p).toBe(1);
    expect(seen.map((s) => s.signal.aborted)).toEqual([false, true, true]);
  });

  it('starts the next attempt at once when an attempt fails before the delay', async () => {
    const seen: Seen[] = [];
    const rec = record();
    const p = hedge(planned([{ ms: 5, ok: false }, { ms: 10, ok: true }], seen), { delayMs: 100 }).run();
    await vi.advanceTimersByTimeAsync(5);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(10);
    expect(await p).toBe(2);
    rec.stop();
    expect(rec.list[0]).toMatchObject({ type: 'hedge.started', attempt: 2, delayMs: 0, trigger: 'error' });
    expect(seen[0]!.signal.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the error of the attempt that failed last when every attempt fails', async () => {
    const p = hedge(planned([{ ms: 300, ok: false }, { ms: 50, ok: false }]), { delayMs: 100 }).run();
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(150);
    // attempt 2 failed first, at 150 ms; attempt 1 is still running, so the call waits for it
    await vi.advanceTimersByTimeAsync(150);
    const error = (await caught) as Error;
    expect(error.message).toBe('attempt 1 failed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails fast with an error that hedgeOnError rejects, aborting the other attempts', async () => {
    const seen: Seen[] = [];
    const hedgeOnError = vi.fn((e: Error) => !e.message.includes('2'));
    const p = hedge(planned([{ ms: 1_000, ok: true }, { ms: 10, ok: false }], seen), { delayMs: 100, maxAttempts: 3, hedgeOnError }).run();
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(110);
    expect(((await caught) as Error).message).toBe('attempt 2 failed');
    expect(hedgeOnError).toHaveBeenCalledWith(expect.any(Error), 2);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    expect(seen.every((s) => s.signal.aborted)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not replace a failed attempt when hedgeOnError is false', async () => {
    const seen: Seen[] = [];
    const p = hedge(planned([{ ms: 5, ok: false }], seen), { delayMs: 100, hedgeOnError: false }).run();
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5);
    expect(((await caught) as Error).message).toBe('attempt 1 failed');
    expect(seen).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts every attempt and rejects at once when the caller aborts', async () => {
    const seen: Seen[] = [];
    const slow = { ms: 10_000, ok: true };
    const controller = new AbortController();
    const p = hedge(planned([slow, slow, slow], seen), { delayMs: 100, maxAttempts: 3 }).run(undefined, { signal: controller.signal });
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(150);
    controller.abort(new Error('caller gave up'));
    const error = await caught;
    expect(isAbortedError(error)).toBe(true);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    expect(seen.every((s) => s.signal.aborted)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once without starting an attempt when already aborted', async () => {
    const seen: Seen[] = [];
    const error = await hedge(planned([{ ms: 1, ok: true }], seen)).run(undefined, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(seen).toHaveLength(0);
  });

  it('starts every attempt at once when delayMs is 0', async () => {
    const seen: Seen[] = [];
    const p = hedge(planned([{ ms: 30, ok: true }, { ms: 20, ok: true }, { ms: 10, ok: true }], seen), { delayMs: 0, maxAttempts: 3 }).run();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(10);
    expect(await p).toBe(3);
    expect(seen.map((s) => s.signal.aborted)).toEqual([true, true, false]);
  });

  it('turns a synchronous throw from an attempt into a failed attempt', async () => {
    const bad = step('sync-throw', (_: void, ctx) => {
      if (ctx.attempt === 1) throw new Error('sync');
      return 'second';
    });
    expect(await hedge(bad, { delayMs: 100 }).run()).toBe('second');
  });

  it('waits fallbackMs until minSamples successes are observed, then the observed quantile', async () => {
    let ms = 10;
    const seen: Seen[] = [];
    const work = step('adaptive', (_: void, ctx) => {
      seen.push({ attempt: ctx.attempt, signal: ctx.signal });
      return new Promise<number>((resolve) => setTimeout(() => resolve(ctx.attempt), ms));
    });
    const h = work.hedge({ delay: { quantile: 0.9, minSamples: 5, fallbackMs: 1_000, window: 10 } });
    const rec = record();
    for (let i = 0; i < 5; i++) {
      const p = h.run();
      await vi.advanceTimersByTimeAsync(10);
      expect(await p).toBe(1);
    }
    expect(seen).toHaveLength(5); // no hedges: 10 ms < fallback 1000 ms
    // Now the p90 of observed latency is 10 ms: a 50 ms call is hedged at 10 ms.
    ms = 50;
    const p = h.run();
    await vi.advanceTimersByTimeAsync(10);
    expect(seen).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(40);
    expect(await p).toBe(1);
    rec.stop();
    expect(rec.list.find((e) => e.type === 'hedge.started')).toMatchObject({ attempt: 2, delayMs: 10 });
  });

  it('throws a TypeError naming the option for bad options', () => {
    const p = planned([]);
    expect(() => hedge(p, { delayMs: -1 })).toThrow(/`delayMs`/);
    expect(() => hedge(p, { maxAttempts: 0 })).toThrow(/`maxAttempts`/);
    expect(() => hedge(p, { maxAttempts: 1.5 })).toThrow(TypeError);
    expect(() => hedge(p, { delay: { quantile: 0 } })).toThrow(/`delay.quantile`/);
    expect(() => hedge(p, { delay: { quantile: 1.5 } })).toThrow(/`delay.quantile`/);
    expect(() => hedge(p, { delay: { quantile: 0.9, minSamples: 200, window: 100 } })).toThrow(/`delay.minSamples`/);
    expect(() => hedge(p, { delay: { quantile: 0.9, window: 0 } })).toThrow(/`delay.window`/);
    expect(() => hedge(p, { delay: { quantile: 0.9, fallbackMs: Number.NaN } })).toThrow(/`delay.fallbackMs`/);
    expect(() => hedge(p, { delayMs: 5, delay: { quantile: 0.9 } })).toThrow(/`delay`/);
    expect(() => hedge(p, { hedgeOnError: 'yes' as never })).toThrow(/`hedgeOnError`/);
    expect(() => hedge(p, 5 as never)).toThrow(/`options`/);
    expect(() => hedge({} as never)).toThrow(/`primitive`/);
  });

  it('keeps the name and reports kind hedge', () => {
    const h = planned([]).hedge();
    expect(h.name).toBe('work');
    expect(h.kind).toBe('hedge');
  });

  it('never leaves a loser running un-aborted', async () => {
    const planArb = fc.record({ ms: fc.integer({ min: 0, max: 300 }), ok: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(
        fc.array(planArb, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 200 }),
        fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
        fc.boolean(),
        async (plans, maxAttempts, delayMs, abortAt, honoursSignal) => {
          const seen: Seen[] = [];
          const work = step('prop', (_: void, ctx) => {
            const plan = plans[ctx.attempt - 1] ?? { ms: 1, ok: true };
            const signal = ctx.signal;
            seen.push({ attempt: ctx.attempt, signal });
            return new Promise<number>((resolve, reject) => {
              const timer = setTimeout(() => (plan.ok ? resolve(ctx.attempt) : reject(new Error(`attempt ${ctx.attempt} failed`))), plan.ms);
              if (honoursSignal) {
                signal.addEventListener('abort', () => {
                  clearTimeout(timer);
                  reject(signal.reason as Error);
                }, { once: true });
              }
            });
          });
          const controller = new AbortController();
          const abortTimer = abortAt === undefined ? undefined : setTimeout(() => controller.abort(), abortAt);
          let outcome: { ok: true; value: number } | { ok: false; error: unknown } | undefined;
          const settledSignals: boolean[][] = [];
          void hedge(work, { delayMs, maxAttempts })
            .run(undefined, { signal: controller.signal })
            .then(
              (value) => {
                outcome = { ok: true, value };
              },
              (error: unknown) => {
                outcome = { ok: false, error };
              },
            )
            .finally(() => {
              // Snapshot at settle time: every attempt but the winner must already be aborted.
              settledSignals.push(seen.map((s) => s.signal.aborted));
            });
          await vi.advanceTimersByTimeAsync(2_000);
          if (abortTimer !== undefined) clearTimeout(abortTimer);
          expect(outcome).toBeDefined();
          const snapshot = settledSignals[0]!;
          expect(seen.length).toBeGreaterThanOrEqual(1);
          expect(seen.length).toBeLessThanOrEqual(maxAttempts);
          const settled = outcome!;
          seen.forEach((s, i) => {
            const won = settled.ok && settled.value === s.attempt;
            expect(snapshot[i]).toBe(!won);
          });
          if (honoursSignal) expect(vi.getTimerCount()).toBe(0);
          vi.clearAllTimers();
        },
      ),
      { numRuns: 1000 },
    );
  });
});
