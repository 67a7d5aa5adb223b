import { describe, expect, it } from 'vitest';
import { step } from '../index.js';
import { parallel } from '../composition/parallel.js';
import { sequence } from '../composition/sequence.js';

const ignoresSignal = (ms: number) => new Promise<string>((r) => setTimeout(() => r('late'), ms));

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('no timers or listeners outlive a run', () => {
  it('leaves no active Timeout after a mix of successes, failures, timeouts, retries and aborts', async () => {
    const baseline = activeTimers();
    const ok = step('ok', (n: number) => n);
    const fails = step('fails', () => Promise.reject(new Error('no')));
    const slow = step('slow', (_: number, ctx) => new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => resolve(1), 50);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(ctx.signal.reason);
      }, { once: true });
    }));
    const flows = [
      ok.timeout(1_000).retry({ retries: 3 }),
      fails.retry({ retries: 2, minDelay: 1, maxDelay: 2 }).timeout(1_000),
      slow.timeout(5),
      slow.timeout(5).retry({ retries: 1, minDelay: 1, maxDelay: 1 }).fallback(ok),
      parallel([ok, slow, fails.retry({ retries: 0 })]).timeout(1_000),
      sequence(ok, slow).bulkhead({ maxConcurrent: 2, maxQueue: 10 }),
      ok.rateLimit({ rate: 1_000, burst: 10, mode: 'wait' }),
      slow.hedge({ delayMs: 1, maxAttempts: 3 }),
      ok.circuitBreaker({ threshold: 2 }),
    ];
    const ac = new AbortController();
    const runs = flows.flatMap((f) => [f.run(1).catch(() => 'failed'), f.run(2, { timeout: 20 }).catch(() => 'failed'), f.run(3, { signal: ac.signal }).catch(() => 'failed')]);
    setTimeout(() => ac.abort(), 2);
    await Promise.all(runs);
    expect(activeTimers()).toBeLessThanOrEqual(baseline);

    // A run whose function ignores its signal is rejected by the timeout; the only timer left is the
    // user's own, which ends by itself.
    await step('stubborn', () => ignoresSignal(30)).timeout(5).run(undefined).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 40));
    expect(activeTimers()).toBeLessThanOrEqual(baseline);
  });

  it('removes its listener from the caller\'s signal when the run ends', async () => {
    const ac = new AbortController();
    const listeners = () => (ac.signal as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(ac.signal).find((s) => s.description === 'kEvents')!] as Map<string, unknown> | undefined;
    for (let i = 0; i < 100; i++) await step('s', (n: number) => n).timeout(100).run(i, { signal: ac.signal });
    const events = listeners();
    expect(events?.get('abort') ?? undefined).toBeUndefined();
  });
});
