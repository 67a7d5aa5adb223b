import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useClock } from '../clock/clock.js';
import { manualClock } from '../test-support/manual-clock.js';
import { BudgetExceededError } from '../errors/budget-exceeded-error.js';
import { BulkheadRejectedError } from '../errors/bulkhead-rejected-error.js';
import { CircuitOpenError } from '../errors/circuit-open-error.js';
import { classifyError } from '../errors/classify.js';
import { RateLimitedError } from '../errors/rate-limited-error.js';
import { RetryExhaustedError } from '../errors/retry-exhausted-error.js';
import { RouteNotFoundError } from '../errors/route-not-found-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { ValidationError } from '../errors/validation-error.js';
import { AbortedError } from '../errors/aborted-error.js';
import { budget } from '../cost/budget.js';
import { step } from '../index.js';
import type { RetryInfo } from './retry.js';
import { retry } from './retry.js';

/** A step that throws each error of `errors` in turn, then answers 'ok'. */
function failing(...errors: Error[]) {
  let calls = 0;
  const s = step('flaky', () => {
    const e = errors[calls++];
    if (e !== undefined) throw e;
    return 'ok';
  });
  return { s, calls: () => calls };
}

describe('retry: what it retries (classifyError)', () => {
  it('classifies every Weft error by the documented table', () => {
    expect(classifyError(new AbortedError('gone'))).toMatchObject({ class: 'abort', retryable: false });
    expect(classifyError(new ValidationError('x', 'input', []))).toMatchObject({ class: 'permanent', retryable: false });
    expect(classifyError(new BudgetExceededError('b', 1, 2))).toMatchObject({ class: 'permanent', retryable: false });
    expect(classifyError(new RouteNotFoundError('k', ['a']))).toMatchObject({ class: 'permanent', retryable: false });
    expect(classifyError(new RetryExhaustedError(3, new Error('x')))).toMatchObject({ class: 'permanent', retryable: false });
    expect(classifyError(new CircuitOpenError('db', { state: 'isolated' }))).toMatchObject({ class: 'permanent', retryable: false });
    expect(classifyError(new CircuitOpenError('db', { state: 'open', retryAfterMs: 700 }))).toEqual({ class: 'throttled', retryable: true, retryAfterMs: 700 });
    expect(classifyError(new RateLimitedError(250))).toEqual({ class: 'throttled', retryable: true, retryAfterMs: 250 });
    expect(classifyError(new BulkheadRejectedError(1, 0))).toEqual({ class: 'throttled', retryable: true });
    expect(classifyError(new TimeoutError(5))).toMatchObject({ class: 'transient', retryable: true });
    expect(classifyError(new Error('boom'))).toMatchObject({ class: 'transient', retryable: true });
    expect(classifyError('a string')).toMatchObject({ class: 'transient', retryable: true });
  });

  it('does not retry a budget refusal: the caller gets the BudgetExceededError after one attempt', async () => {
    let calls = 0;
    const paid = budget(
      step('paid', () => {
        calls++;
        return 'answer';
      }),
      { name: 'no-money', perRun: 0.01, estimate: 1 },
    );
    const error = await retry(paid, { retries: 5, minDelay: 1_000 }).run(undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(calls).toBe(0);
  });

  it('does not retry an isolated breaker, or a retry that already gave up inside', async () => {
    for (const e of [new CircuitOpenError('db', { state: 'isolated' }), new RetryExhaustedError(2, new Error('inner'))]) {
      const { s, calls } = failing(e, e);
      await expect(retry(s, { retries: 3, minDelay: 0 }).run(undefined)).rejects.toBe(e);
      expect(calls()).toBe(1);
    }
  });

  it('waits a breaker\'s retryAfterMs and a rate limit\'s retryAfter instead of the backoff', async () => {
    const clock = manualClock();
    const seen: RetryInfo[] = [];
    const { s } = failing(new CircuitOpenError('db', { state: 'open', retryAfterMs: 4_000 }), new RateLimitedError(1_500));
    const p = retry(s, { retries: 2, minDelay: 50, jitter: 'none', clock, onRetry: (i) => seen.push(i) }).run(undefined);
    await clock.advance(3_999);
    expect(seen.map((i) => i.delayMs)).toEqual([4_000]);
    await clock.advance(1);
    await clock.advance(1_500);
    await expect(p).resolves.toBe('ok');
    expect(seen.map((i) => [i.delayMs, i.hinted])).toEqual([
      [4_000, true],
      [1_500, true],
    ]);
  });

  it('accepts an async retryOn, and stops with its rejection', async () => {
    const no = failing(new Error('a'), new Error('b'));
    await expect(retry(no.s, { retries: 3, minDelay: 0, retryOn: () => Promise.resolve(false) }).run(undefined)).rejects.toThrow('a');
    expect(no.calls()).toBe(1);
    const yes = failing(new Error('a'), new Error('b'));
    await expect(retry(yes.s, { retries: 3, minDelay: 0, retryOn: async (_e, n) => n < 5 }).run(undefined)).resolves.toBe('ok');
    expect(yes.calls()).toBe(3);
    const broken = failing(new Error('a'));
    await expect(retry(broken.s, { retries: 3, minDelay: 0, retryOn: () => Promise.reject(new Error('lookup failed')) }).run(undefined)).rejects.toThrow('lookup failed');
  });
});

describe('retry: schedules', () => {
  async function delaysOf(options: Parameters<typeof retry>[1], failures: number): Promise<number[]> {
    const clock = manualClock();
    const seen: number[] = [];
    const { s } = failing(...Array.from({ length: failures }, (_, i) => new Error(`e${i}`)));
    const p = retry(s, { ...(options as object), clock, onRetry: (i: RetryInfo) => seen.push(i.delayMs) }).run(undefined);
    p.catch(() => undefined);
    for (let i = 0; i < failures + 1; i++) await clock.advance(100_000);
    await p.catch(() => undefined);
    return seen;
  }

  it('follows a delay list, repeating its last entry, with retries defaulting to its length', async () => {
    expect(await delaysOf({ delays: [100, 500, 2_000] }, 3)).toEqual([100, 500, 2_000]);
    expect(await delaysOf({ delays: [100, 500], retries: 4 }, 4)).toEqual([100, 500, 500, 500]);
    const { s, calls } = failing(new Error('1'), new Error('2'), new Error('3'), new Error('4'));
    const clock = manualClock();
    const p = retry(s, { delays: [10, 10, 10], clock }).run(undefined);
    p.catch(() => undefined);
    for (let i = 0; i < 5; i++) await clock.advance(100);
    await expect(p).rejects.toBeInstanceOf(RetryExhaustedError);
    expect(calls()).toBe(4);
  });

  it('grows linearly or stays constant when asked', async () => {
    expect(await delaysOf({ retries: 4, minDelay: 100, backoff: 'linear', jitter: 'none' }, 4)).toEqual([100, 200, 300, 400]);
    expect(await delaysOf({ retries: 3, minDelay: 250, backoff: 'constant', jitter: 'none' }, 3)).toEqual([250, 250, 250]);
    expect(await delaysOf({ retries: 3, minDelay: 100, jitter: 'none' }, 3)).toEqual([100, 200, 400]);
  });

  it('asks a delay function first, and falls back to the computed delay when it says undefined', async () => {
    const delay = (attempt: number, error: Error | undefined) => (error?.message === 'e1' ? undefined : attempt * 1_000);
    expect(await delaysOf({ retries: 3, minDelay: 7, backoff: 'constant', jitter: 'none', delay }, 3)).toEqual([1_000, 7, 3_000]);
  });

  it('never schedules a wait past the run deadline, reading the injected clock', async () => {
    const clock = manualClock();
    const restore = useClock(clock); // the run's deadline is read on the current clock
    try {
      const { s, calls } = failing(new Error('a'), new Error('b'));
      const p = retry(s, { delays: [5_000], retries: 2 }).run(undefined, { deadline: clock.now() + 1_000 });
      await expect(p).rejects.toBeInstanceOf(RetryExhaustedError);
      expect(calls()).toBe(1);
      expect(clock.pending()).toBe(0); // the run's deadline timer is cleared with the run
    } finally {
      restore();
    }
  });

  it('calls onGiveUp once with the reason', async () => {
    const given: unknown[] = [];
    const { s } = failing(new ValidationError('x', 'input', []));
    await retry(s, { retries: 3, minDelay: 0, onGiveUp: (i) => given.push(i) }).run(undefined).catch(() => undefined);
    expect(given).toEqual([expect.objectContaining({ step: 'flaky', attempts: 1, reason: 'not_retryable' })]);
  });

  it('rejects bad and misspelt options, naming them', () => {
    const s = step('x', () => 1);
    expect(() => retry(s, { retires: 3 } as never)).toThrow('Unknown retry option `retires` (did you mean `retries`?)');
    expect(() => retry(s, { delays: [] })).toThrow(/`delays`/);
    expect(() => retry(s, { delays: [10, -1] })).toThrow(/`delays`/);
    expect(() => retry(s, { backoff: 'quadratic' as never })).toThrow(/`backoff`/);
    expect(() => retry(s, { clock: {} as never })).toThrow(/`clock`/);
  });
});

describe('retry: unref', () => {
  it('lets a process exit while a backoff is pending when unref is set, and keeps it alive otherwise', () => {
    const core = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = (unref: boolean) => `
      const { retry, step } = await import(${JSON.stringify(core)});
      let calls = 0;
      const s = step('x', () => { calls++; throw new Error('down'); });
      retry(s, { delays: [60_000], retries: 1, unref: ${unref} }).run(undefined).catch(() => {});
      setTimeout(() => { console.log('calls=' + calls); }, 50);
    `;
    const unrefd = spawnSync(process.execPath, ['--input-type=module', '-e', script(true)], { encoding: 'utf8', timeout: 20_000 });
    expect(unrefd.status).toBe(0);
    expect(unrefd.stdout.trim()).toBe('calls=1');
    const held = spawnSync(process.execPath, ['--input-type=module', '-e', script(false)], { encoding: 'utf8', timeout: 1_500 });
    // Still waiting on the 60 s backoff when the 1.5 s guard kills it.
    expect(held.signal).toBe('SIGTERM');
  });
});
