import { describe, expect, it } from 'vitest';
import { step } from '../index.js';
import { manualClock } from '../test-support/manual-clock.js';
import { hedge, type HedgeInfo } from './hedge.js';

/** A step whose attempt n answers `answers[n - 1]` after `delays[n - 1]` ms on `clock` (never, when undefined). */
function scripted(clock: ReturnType<typeof manualClock>, delays: (number | undefined)[], answers: string[]) {
  const started: number[] = [];
  const s = step('quote', (_: void, ctx) => {
    const n = ctx.attempt;
    started.push(clock.now());
    const ms = delays[n - 1];
    return new Promise<string>((resolve) => {
      if (ms !== undefined) clock.setTimeout(() => resolve(answers[n - 1] ?? `a${n}`), ms);
    });
  });
  return { s, started };
}

describe('hedge: controls (issue 13)', () => {
  it('waits a per-attempt delay from a function, on an injected clock', async () => {
    const clock = manualClock();
    const t0 = clock.now();
    const { s, started } = scripted(clock, [undefined, undefined, 10], ['', '', 'third']);
    const seen: HedgeInfo[] = [];
    const p = hedge(s, { maxAttempts: 3, delayMs: (attempt) => (attempt === 2 ? 100 : 300), clock, onHedge: (i) => seen.push(i) }).run(undefined);
    await clock.advance(100);
    expect(started.map((t) => t - t0)).toEqual([0, 100]);
    await clock.advance(300);
    expect(started.map((t) => t - t0)).toEqual([0, 100, 400]);
    await clock.advance(10);
    await expect(p).resolves.toBe('third');
    expect(seen).toEqual([
      { step: 'quote', attempt: 2, delayMs: 100, trigger: 'delay' },
      { step: 'quote', attempt: 3, delayMs: 300, trigger: 'delay' },
    ]);
    expect(clock.pending()).toBe(0);
  });

  it('skips the hedge when shouldHedge says no (under load)', async () => {
    const clock = manualClock();
    const { s, started } = scripted(clock, [500], ['slow but only']);
    const asked: number[] = [];
    const p = hedge(s, { delayMs: 100, clock, shouldHedge: (_ctx, attempt) => (asked.push(attempt), false) }).run(undefined);
    await clock.advance(500);
    await expect(p).resolves.toBe('slow but only');
    expect(started).toHaveLength(1);
    expect(asked).toEqual([2]);
  });

  it('counts a degraded result as a failure and hedges at once; keeps it when nothing better comes', async () => {
    const clock = manualClock();
    const { s, started } = scripted(clock, [10, 20], ['degraded', 'good']);
    const p = hedge(s, { delayMs: 1_000, clock, failureIf: (r) => r === 'degraded' }).run(undefined);
    await clock.advance(10);
    expect(started).toHaveLength(2); // the hedge started at once, not after 1 s
    await clock.advance(20);
    await expect(p).resolves.toBe('good');

    const worse = scripted(clock, [10, 10], ['degraded', 'degraded']);
    const q = hedge(worse.s, { delayMs: 1_000, clock, failureIf: (r) => r === 'degraded' }).run(undefined);
    await clock.advance(10);
    await clock.advance(10);
    await expect(q).resolves.toBe('degraded');
  });

  it('rejects misspelt options with a suggestion', () => {
    expect(() => hedge(step('x', () => 1), { maxAtempts: 3 } as never)).toThrow('Unknown hedge option `maxAtempts` (did you mean `maxAttempts`?)');
  });
});
