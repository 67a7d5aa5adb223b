import { describe, expect, it } from 'vitest';
import { useClock } from '../clock/clock.js';
import { onEvent } from '../events/on-event.js';
import type { WeftEvent } from '../events/event-types.js';
import { isTimeoutError, type TimeoutError } from '../errors/timeout-error.js';
import { definePrimitive, step } from '../index.js';
import { manualClock } from '../test-support/manual-clock.js';
import { timeout, type TimeoutInfo } from './timeout.js';

describe('timeout: the limit it reports', () => {
  it('reports the limit that fired when an outer deadline clamps it: 50 ms, not the configured 5000', async () => {
    const clock = manualClock();
    const restore = useClock(clock);
    const seen: WeftEvent[] = [];
    const stop = onEvent((e) => e.type === 'timeout.expired' && seen.push(e));
    const infos: TimeoutInfo[] = [];
    try {
      const slow = step('slow', () => new Promise<string>(() => {}));
      const bounded = timeout(slow, { ms: 5_000, onTimeout: (i) => infos.push(i) });
      // An outer deadline 50 ms away that arms no timer of its own (as a caller's deadline passed down does).
      const underDeadline = definePrimitive('under-deadline', 'test', (input: undefined, ctx) => bounded.exec(input, ctx.with({ deadline: clock.now() + 50 })));
      const caught = underDeadline.run(undefined).catch((e: unknown) => e);
      await clock.advance(50);
      const error = (await caught) as TimeoutError;
      expect(isTimeoutError(error)).toBe(true);
      expect(error.timeoutMs).toBe(50);
      expect(error.message).toBe("Timed out after 50 ms (an outer deadline; this step's own limit is 5000 ms)");
      expect(seen).toEqual([expect.objectContaining({ type: 'timeout.expired', timeoutMs: 50, configuredMs: 5_000, clampedByDeadline: true })]);
      expect(infos).toEqual([{ step: 'slow', timeoutMs: 50, configuredMs: 5_000, clampedByDeadline: true }]);
      expect(clock.pending()).toBe(0);
    } finally {
      stop();
      restore();
    }
  });

  it('reports its own limit when nothing outside is earlier', async () => {
    const clock = manualClock();
    const slow = step('slow', () => new Promise<string>(() => {}));
    const caught = timeout(slow, { ms: 300, clock }).run(undefined).catch((e: unknown) => e);
    await clock.advance(300);
    expect(await caught).toMatchObject({ name: 'TimeoutError', timeoutMs: 300, message: 'Timed out after 300 ms' });
  });
});

describe('timeout: cooperative mode', () => {
  it('aborts the signal and returns a result that still arrives', async () => {
    const clock = manualClock();
    let signal: AbortSignal | undefined;
    let finish!: (v: string) => void;
    const report = step('report', (_: void, ctx) => {
      signal = ctx.signal;
      return new Promise<string>((r) => (finish = r));
    });
    const p = timeout(report, { ms: 100, mode: 'cooperative', clock }).run(undefined);
    await clock.advance(100);
    expect(signal?.aborted).toBe(true);
    expect(isTimeoutError(signal?.reason)).toBe(true);
    finish('late but useful');
    await expect(p).resolves.toBe('late but useful');
  });

  it('passes on what the function throws once it honours the signal', async () => {
    const clock = manualClock();
    const honest = step('honest', (_: void, ctx) => new Promise<string>((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))));
    const caught = timeout(honest, { ms: 100, mode: 'cooperative', clock }).run(undefined).catch((e: unknown) => e);
    await clock.advance(100);
    expect(isTimeoutError(await caught)).toBe(true);
  });

  it('is aggressive by default: rejects at once even when the function ignores its signal', async () => {
    const clock = manualClock();
    const deaf = step('deaf', () => new Promise<string>(() => {}));
    const caught = timeout(deaf, { ms: 100, clock }).run(undefined).catch((e: unknown) => e);
    await clock.advance(100);
    expect(isTimeoutError(await caught)).toBe(true);
  });
});

describe('timeout: options', () => {
  it('rejects bad and misspelt options, naming them', () => {
    const s = step('x', () => 1);
    expect(() => timeout(s, { ms: 10, mdoe: 'cooperative' } as never)).toThrow('Unknown timeout option `mdoe` (did you mean `mode`?)');
    expect(() => timeout(s, { ms: 10, mode: 'lazy' as never })).toThrow(/`mode`/);
    expect(() => timeout(s, { ms: -1 })).toThrow(/`ms`/);
  });
});
