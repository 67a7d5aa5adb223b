import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { timeout } from './timeout.js';
import { step } from '../index.js';
import { isTimeoutError, TimeoutError } from '../errors/timeout-error.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';

const forever = () => new Promise<never>(() => {});

describe('timeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts the step signal with a TimeoutError reason when it expires', async () => {
    vi.useFakeTimers();
    let reason: unknown;
    const slow = step('slow', (_: void, ctx) => new Promise<void>((_r, reject) => {
      ctx.signal.addEventListener('abort', () => {
        reason = ctx.signal.reason;
        reject(ctx.signal.reason);
      });
    }));
    const p = timeout(slow, 100).run(undefined).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    const error = await p;
    expect(isTimeoutError(error)).toBe(true);
    expect(reason).toBeInstanceOf(TimeoutError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects promptly even when the function ignores its signal, and says it may still be running', async () => {
    vi.useFakeTimers();
    const seen: WeftEvent[] = [];
    const sub = events.subscribe((e) => e.type === 'timeout.expired' && seen.push(e));
    const p = step('stubborn', forever).timeout({ ms: 50 }).run(undefined).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(isTimeoutError(await p)).toBe(true);
    sub.unsubscribe();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.type === 'timeout.expired' && seen[0].mayStillBeRunning).toBe(true);
  });

  it('clears its timer as soon as the call settles', async () => {
    vi.useFakeTimers();
    expect(await step('fast', () => 1).timeout(10_000).run(undefined)).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    await expect(step('fails', () => Promise.reject(new Error('no'))).timeout(10_000).run(undefined)).rejects.toThrow('no');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clamps an inner timeout to the outer deadline', async () => {
    vi.useFakeTimers();
    let innerDeadline: number | undefined;
    const probe = step('probe', (_: void, ctx) => {
      innerDeadline = ctx.deadline;
      return forever();
    });
    const start = Date.now();
    const p = probe.timeout(10_000).timeout(100).run(undefined).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    expect(innerDeadline).toBe(start + 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(isTimeoutError(await p)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clamps to the run deadline too', async () => {
    vi.useFakeTimers();
    let d: number | undefined;
    const start = Date.now();
    const p = step('probe', (_: void, ctx) => {
      d = ctx.deadline;
      return 1;
    }).timeout(60_000).run(undefined, { timeout: 250 });
    await vi.advanceTimersByTimeAsync(0);
    await p;
    expect(d).toBe(start + 250);
  });

  it('passes an outer abort through as an abort, not a timeout', async () => {
    const ac = new AbortController();
    const p = step('w', forever).timeout(10_000).run(undefined, { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort('bye');
    const error = await p;
    expect(isAbortedError(error)).toBe(true);
  });

  it('throws a TypeError naming the option', () => {
    const s = step('s', () => 1);
    expect(() => timeout(s, -1)).toThrow(/`ms`/);
    expect(() => timeout(s, Number.NaN)).toThrow(TypeError);
    expect(() => timeout(s, 'soon' as never)).toThrow(/`options`/);
  });

  it('always settles within its time plus a small epsilon (property)', async () => {
    vi.useFakeTimers();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 10_000 }), fc.boolean(), async (limit, work, honours) => {
        const s = step('w', (_: void, ctx) => new Promise<string>((resolve, reject) => {
          const t = setTimeout(() => resolve('done'), work);
          if (honours) ctx.signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(ctx.signal.reason);
          });
        }));
        let settledAt = -1;
        const start = Date.now();
        const p = timeout(s, limit).run(undefined).then(
          () => (settledAt = Date.now() - start),
          () => (settledAt = Date.now() - start),
        );
        await vi.advanceTimersByTimeAsync(limit + 1);
        await p;
        const eps = 1;
        if (settledAt < 0 || settledAt > limit + eps) return false;
        await vi.runAllTimersAsync();
        return vi.getTimerCount() === 0;
      }),
      { numRuns: 1_000 },
    );
  });
});
