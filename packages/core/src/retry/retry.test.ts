import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { parentSpanId as parentId, recordSpans } from '../../../testing/src/record-spans.js';
import { retry } from './retry.js';
import { step } from '../index.js';
import { timeout } from '../timeout/timeout.js';
import { definePrimitive, type Primitive } from '../primitive.js';
import { events } from '../events/event-stream.js';
import type { EventOf, WeftEvent } from '../events/event-types.js';
import { AbortedError, isAbortedError } from '../errors/aborted-error.js';
import { isNonErrorThrown } from '../errors/non-error-thrown.js';
import { RateLimitedError } from '../errors/rate-limited-error.js';
import { isRetryExhaustedError, RetryExhaustedError } from '../errors/retry-exhausted-error.js';
import { isTimeoutError, TimeoutError } from '../errors/timeout-error.js';
import { isValidationError } from '../errors/validation-error.js';

type RetryEvent = EventOf<'retry.attempt'> | EventOf<'retry.scheduled'> | EventOf<'retry.gave_up'> | EventOf<'retry.succeeded'>;

function record(): { list: RetryEvent[]; of: <T extends RetryEvent['type']>(type: T) => EventOf<T>[]; stop: () => void } {
  const list: RetryEvent[] = [];
  const sub = events.subscribe((e: WeftEvent) => {
    if (e.type.startsWith('retry.')) list.push(e as RetryEvent);
  });
  return {
    list,
    of: <T extends RetryEvent['type']>(type: T) => list.filter((e) => e.type === type) as EventOf<T>[],
    stop: () => sub.unsubscribe(),
  };
}

/** A step that fails `failures` times (with `makeError(attempt)`), then returns the attempt number. Records attempt numbers and times. */
function flaky(failures: number, makeError: (attempt: number) => unknown = (n) => new Error(`attempt ${n} failed`)) {
  const attempts: number[] = [];
  const times: number[] = [];
  const s = step('flaky', async (_: void, ctx) => {
    attempts.push(ctx.attempt);
    times.push(Date.now());
    if (attempts.length <= failures) throw makeError(ctx.attempt);
    return ctx.attempt;
  });
  return { s, attempts, times };
}

/** Settles the promise while advancing fake time; returns the outcome and the fake time it settled at. */
async function settle<T>(promise: Promise<T>, stepMs = 1): Promise<{ value?: T; error?: unknown; at: number }> {
  let done: { value?: T; error?: unknown; at: number } | undefined;
  promise.then(
    (value) => (done = { value, at: Date.now() }),
    (error: unknown) => (done = { error, at: Date.now() }),
  );
  for (let i = 0; i < 1_000_000 && done === undefined; i++) await vi.advanceTimersByTimeAsync(stepMs);
  if (done === undefined) throw new Error('did not settle');
  return done;
}

describe('retry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    expect(vi.getTimerCount()).toBe(0); // no timer outlives a call
    vi.useRealTimers();
  });

  it('returns the first success without retrying or reporting a retry', async () => {
    const rec = record();
    const { s, attempts } = flaky(0);
    expect(await retry(s).run()).toBe(1);
    rec.stop();
    expect(attempts).toEqual([1]);
    expect(rec.list.map((e) => e.type)).toEqual(['retry.attempt']);
    expect(rec.of('retry.attempt')[0]).toMatchObject({ attempt: 1, maxAttempts: 3, final: false, step: 'flaky', primitive: 'retry' });
  });

  it('retries until an attempt succeeds and shows each attempt its 1-based ctx.attempt', async () => {
    const rec = record();
    const { s, attempts } = flaky(2);
    const out = await settle(retry(s, { retries: 3, minDelay: 10, jitter: 'none' }).run());
    rec.stop();
    expect(out.value).toBe(3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(rec.of('retry.attempt').map((e) => [e.attempt, e.final])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    expect(rec.of('retry.scheduled').map((e) => [e.attempt, e.delayMs, (e.error as Error).message, e.hinted, e.final])).toEqual([
      [1, 10, 'attempt 1 failed', false, false],
      [2, 20, 'attempt 2 failed', false, false],
    ]);
    expect(rec.of('retry.succeeded')).toMatchObject([{ attempts: 3 }]);
    expect(rec.of('retry.gave_up')).toEqual([]);
  });

  it('waits exactly the capped exponential sequence with jitter none', async () => {
    const { s, times } = flaky(6);
    const out = await settle(retry(s, { retries: 6, minDelay: 100, factor: 2, maxDelay: 500, jitter: 'none' }).run());
    expect(out.value).toBe(7);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toEqual([100, 200, 400, 500, 500, 500]);
  });

  it('uses an injected random source for jitter, so delays are reproducible', async () => {
    const rec = record();
    const { s } = flaky(3);
    await settle(retry(s, { retries: 3, minDelay: 100, jitter: 'full', random: () => 0.5 }).run());
    const decorrelated = flaky(3);
    await settle(retry(decorrelated.s, { retries: 3, minDelay: 100, jitter: 'decorrelated', random: () => 0.5 }).run());
    rec.stop();
    const delays = rec.of('retry.scheduled').map((e) => e.delayMs);
    // full: half of 100, 200, 400; decorrelated: 100 + 0.5 * (3 * previous - 100), from previous = 100
    expect(delays).toEqual([50, 100, 200, 200, 350, 575]);
  });

  it('rejects with RetryExhaustedError carrying the last error and the attempt count', async () => {
    const rec = record();
    const { s, attempts } = flaky(10);
    const out = await settle(retry(s, { retries: 2, minDelay: 1 }).run());
    rec.stop();
    expect(attempts).toEqual([1, 2, 3]);
    expect(out.error).toBeInstanceOf(RetryExhaustedError);
    expect(isRetryExhaustedError(out.error)).toBe(true);
    const e = out.error as RetryExhaustedError;
    expect(e.attempts).toBe(3);
    expect((e.cause as Error).message).toBe('attempt 3 failed');
    expect(rec.of('retry.attempt').map((x) => x.final)).toEqual([false, false, true]);
    expect(rec.of('retry.gave_up')).toMatchObject([{ attempts: 3, reason: 'exhausted', final: true }]);
    expect((rec.of('retry.gave_up')[0]!.error as Error).message).toBe('attempt 3 failed');
  });

  it('rejects with the last error itself when rethrow is set', async () => {
    const { s } = flaky(10);
    const out = await settle(retry(s, { retries: 1, minDelay: 1, rethrow: true }).run());
    expect(isRetryExhaustedError(out.error)).toBe(false);
    expect((out.error as Error).message).toBe('attempt 2 failed');
  });

  it('makes a single attempt with retries: 0', async () => {
    const { s, attempts } = flaky(1);
    const out = await settle(retry(s, 0).run());
    expect(attempts).toEqual([1]);
    expect((out.error as RetryExhaustedError).attempts).toBe(1);
  });

  it('accepts the number of retries as a shorthand, and the fluent form', async () => {
    const a = flaky(3);
    await settle(retry(a.s, 3).run());
    expect(a.attempts).toEqual([1, 2, 3, 4]);
    const b = flaky(1);
    expect((await settle(b.s.retry({ minDelay: 0 }).run())).value).toBe(2);
  });

  it('wraps a thrown non-Error and retries it', async () => {
    const { s, attempts } = flaky(1, () => 'boom');
    expect((await settle(retry(s, { minDelay: 0 }).run())).value).toBe(2);
    expect(attempts).toEqual([1, 2]);
    const always = flaky(9, () => 'boom');
    const out = await settle(retry(always.s, { retries: 1, minDelay: 0 }).run());
    expect(isNonErrorThrown((out.error as RetryExhaustedError).cause)).toBe(true);
  });

  it('retries a primitive whose exec throws synchronously', async () => {
    let calls = 0;
    const p = definePrimitive<void, string>('sync-thrower', 'custom', () => {
      calls++;
      if (calls < 3) throw new Error('sync');
      return Promise.resolve('ok');
    });
    expect((await settle(retry(p, { minDelay: 0 }).run())).value).toBe('ok');
    expect(calls).toBe(3);
  });

  describe('retryOn', () => {
    it('stops at once and rethrows the error as is when retryOn says no', async () => {
      const rec = record();
      class Fatal extends Error {}
      const { s, attempts } = flaky(5, (n) => (n === 2 ? new Fatal('fatal') : new Error('transient')));
      const seen: Array<[string, number]> = [];
      const out = await settle(
        retry(s, {
          retries: 5,
          minDelay: 1,
          retryOn: (error, attempt) => {
            seen.push([error.message, attempt]);
            return !(error instanceof Fatal);
          },
        }).run(),
      );
      rec.stop();
      expect(out.error).toBeInstanceOf(Fatal);
      expect(attempts).toEqual([1, 2]);
      expect(seen).toEqual([
        ['transient', 1],
        ['fatal', 2],
      ]);
      expect(rec.of('retry.gave_up')).toMatchObject([{ attempts: 2, reason: 'not_retryable' }]);
    });

    it('rejects with what retryOn throws', async () => {
      const { s } = flaky(5);
      const bug = new Error('predicate bug');
      const out = await settle(
        retry(s, {
          retryOn: () => {
            throw bug;
          },
        }).run(),
      );
      expect(out.error).toBe(bug);
    });
  });

  describe('retryIf', () => {
    it('retries while the result says so and returns the first accepted result', async () => {
      const rec = record();
      const results = ['pending', 'pending', 'done'];
      const seen: Array<[string, number]> = [];
      const poll = step('poll', (_: void, ctx) => results[ctx.attempt - 1]!);
      const out = await settle(
        retry(poll, {
          retries: 5,
          minDelay: 10,
          jitter: 'none',
          retryIf: (result, attempt) => {
            seen.push([result, attempt]);
            return result === 'pending';
          },
        }).run(),
      );
      rec.stop();
      expect(out.value).toBe('done');
      expect(seen).toEqual([
        ['pending', 1],
        ['pending', 2],
        ['done', 3],
      ]);
      expect(rec.of('retry.scheduled').map((e) => [e.attempt, e.result, e.error])).toEqual([
        [1, 'pending', undefined],
        [2, 'pending', undefined],
      ]);
      expect(rec.of('retry.succeeded')).toMatchObject([{ attempts: 3 }]);
    });

    it('resolves with the last result when attempts run out, and reports it', async () => {
      const rec = record();
      let calls = 0;
      const poll = step('poll', (_: void) => ({ status: 'pending', n: ++calls }));
      const out = await settle(retry(poll, { retries: 2, minDelay: 1, retryIf: (r) => r.status === 'pending' }).run());
      rec.stop();
      expect(out.value).toEqual({ status: 'pending', n: 3 });
      expect(rec.of('retry.gave_up')).toMatchObject([{ attempts: 3, reason: 'exhausted', error: undefined, result: { status: 'pending', n: 3 }, final: true }]);
      expect(rec.of('retry.succeeded')).toEqual([]);
    });

    it('rejects with what retryIf throws', async () => {
      const bug = new Error('predicate bug');
      const poll = step('poll', (_: void) => 1);
      const out = await settle(
        retry(poll, {
          retryIf: () => {
            throw bug;
          },
        }).run(),
      );
      expect(out.error).toBe(bug);
    });

    it('still retries errors while checking results', async () => {
      const { s, attempts } = flaky(1);
      const out = await settle(retry(s, { minDelay: 0, retryIf: (n) => n < 3 }).run());
      expect(out.value).toBe(3);
      expect(attempts).toEqual([1, 2, 3]);
    });
  });

  describe('retry hints', () => {
    it('waits the retryAfter of a RateLimitedError instead of the backoff', async () => {
      const rec = record();
      const { s, times } = flaky(1, () => new RateLimitedError(750));
      await settle(retry(s, { minDelay: 10, jitter: 'none' }).run());
      rec.stop();
      expect(times[1]! - times[0]!).toBe(750);
      expect(rec.of('retry.scheduled')).toMatchObject([{ delayMs: 750, hinted: true }]);
    });

    it('caps a hint at maxDelay', async () => {
      const { s, times } = flaky(1, () => new RateLimitedError(60_000));
      await settle(retry(s, { maxDelay: 2_000 }).run(), 100);
      expect(times[1]! - times[0]!).toBe(2_000);
    });

    it('reads an HTTP Retry-After header in seconds', async () => {
      const httpError = () => Object.assign(new Error('429'), { response: { headers: new Headers({ 'Retry-After': '3' }) } });
      const { s, times } = flaky(1, httpError);
      await settle(retry(s, { minDelay: 10 }).run(), 100);
      expect(times[1]! - times[0]!).toBe(3_000);
    });

    it('ignores hints with retryAfter: false, and uses a custom reader', async () => {
      const a = flaky(1, () => new RateLimitedError(750));
      await settle(retry(a.s, { minDelay: 10, jitter: 'none', retryAfter: false }).run());
      expect(a.times[1]! - a.times[0]!).toBe(10);
      const b = flaky(1, () => Object.assign(new Error('x'), { waitMs: 42 }));
      await settle(retry(b.s, { minDelay: 10, jitter: 'none', retryAfter: (e) => (e as Error & { waitMs: number }).waitMs }).run());
      expect(b.times[1]! - b.times[0]!).toBe(42);
    });

    it('gives up at once when a hint would end past the deadline', async () => {
      const rec = record();
      const { s, attempts } = flaky(5, () => new RateLimitedError(5_000));
      const out = await settle(retry(s, { maxDelay: 10_000 }).run(undefined, { timeout: 1_000 }));
      rec.stop();
      expect(out.at).toBe(0);
      expect(attempts).toEqual([1]);
      expect((out.error as RetryExhaustedError).cause).toBeInstanceOf(RateLimitedError);
      expect(rec.of('retry.gave_up')).toMatchObject([{ reason: 'deadline', attempts: 1 }]);
    });
  });

  describe('deadlines and cancellation', () => {
    it('never sleeps past the deadline: gives up at once with the last error', async () => {
      const rec = record();
      const { s, times } = flaky(10);
      const out = await settle(retry(s, { retries: 5, minDelay: 600, jitter: 'none' }).run(undefined, { timeout: 1_000 }));
      rec.stop();
      expect(times).toEqual([0, 600]); // 600 + 1200 would end past 1000
      expect(out.at).toBe(600);
      expect(out.error).toBeInstanceOf(RetryExhaustedError);
      expect(((out.error as RetryExhaustedError).cause as Error).message).toBe('attempt 2 failed');
      expect(rec.of('retry.gave_up')).toMatchObject([{ reason: 'deadline', attempts: 2, final: true }]);
    });

    it('clamps to the deadline of an outer timeout too', async () => {
      const { s, times } = flaky(10);
      const out = await settle(timeout(retry(s, { retries: 5, minDelay: 300, jitter: 'none' }), 1_000).run());
      expect(times).toEqual([0, 300, 900]); // 300 + 600 = 900 < 1000; then 900 + 1200 > 1000
      expect(out.at).toBe(900);
      expect(isRetryExhaustedError(out.error)).toBe(true);
    });

    it('wakes at once from a backoff sleep when the caller aborts', async () => {
      const rec = record();
      const controller = new AbortController();
      const { s, attempts } = flaky(10);
      const promise = retry(s, { minDelay: 10_000, jitter: 'none' }).run(undefined, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('user cancelled')), 50);
      const out = await settle(promise);
      rec.stop();
      expect(out.at).toBe(50);
      expect(isAbortedError(out.error)).toBe(true);
      expect(attempts).toEqual([1]);
      expect(rec.of('retry.gave_up')).toMatchObject([{ reason: 'aborted', attempts: 1 }]);
    });

    it('wakes at once even when retry is used without run() racing the abort', async () => {
      // An outer primitive aborts the scope; retry must settle by itself, not only through run()'s race.
      const { s } = flaky(10);
      const inner = retry(s, { minDelay: 10_000, jitter: 'none' });
      let settledAt: number | undefined;
      const outer = definePrimitive<void, number>('outer', 'custom', (input, ctx) => {
        setTimeout(() => ctx.scope.abort(new AbortedError('stop')), 20);
        return inner.exec(input, ctx).finally(() => (settledAt = Date.now()));
      });
      const out = await settle(outer.run());
      expect(isAbortedError(out.error)).toBe(true);
      expect(settledAt).toBe(20);
    });

    it('lets the attempt in flight see the abort, and starts no other attempt', async () => {
      const controller = new AbortController();
      const seen: boolean[] = [];
      const s = step('slow', (_: void, ctx) => {
        return new Promise<number>((_resolve, reject) => {
          const signal = ctx.signal;
          signal.addEventListener('abort', () => {
            seen.push(signal.aborted);
            reject(signal.reason as Error);
          });
        });
      });
      const promise = retry(s, { minDelay: 0 }).run(undefined, { signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      const out = await settle(promise);
      expect(out.at).toBe(30);
      expect(seen).toEqual([true]);
      expect(isAbortedError(out.error)).toBe(true);
    });

    it('does not retry when the run deadline aborts an attempt', async () => {
      const rec = record();
      let calls = 0;
      const s = step('hang', (_: void, ctx) => {
        calls++;
        return new Promise<never>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
      });
      const out = await settle(retry(s, { minDelay: 0 }).run(undefined, { timeout: 100 }));
      rec.stop();
      expect(calls).toBe(1);
      expect(isTimeoutError(out.error)).toBe(true);
      expect(rec.of('retry.gave_up')).toMatchObject([{ reason: 'aborted' }]);
    });

    it('retries a TimeoutError from a per-attempt timeout', async () => {
      let calls = 0;
      const s = step('hang', (_: void, ctx) => {
        calls++;
        return new Promise<never>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
      });
      const out = await settle(retry(timeout(s, 100), { retries: 2, minDelay: 0 }).run());
      expect(calls).toBe(3);
      expect(out.at).toBe(300);
      expect((out.error as RetryExhaustedError).cause).toBeInstanceOf(TimeoutError);
    });
  });

  describe('errors that are never retried', () => {
    it('does not retry a ValidationError', async () => {
      const rec = record();
      let calls = 0;
      const s = step({ name: 'validated', input: z.object({ id: z.string() }) }, () => ++calls);
      const out = await settle(retry(s, { retries: 3, minDelay: 1, retryOn: () => true }).run({ id: 1 } as never));
      rec.stop();
      expect(isValidationError(out.error)).toBe(true);
      expect(rec.of('retry.attempt')).toHaveLength(1);
      expect(rec.of('retry.gave_up')).toMatchObject([{ reason: 'not_retryable', attempts: 1 }]);
    });

    it('does not retry an AbortedError or a DOM AbortError thrown by the function', async () => {
      const a = flaky(5, () => new AbortedError('nope'));
      const outA = await settle(retry(a.s, { minDelay: 1, retryOn: () => true }).run());
      expect(a.attempts).toEqual([1]);
      expect(outA.error).toBeInstanceOf(AbortedError);
      const b = flaky(5, () => new DOMException('aborted', 'AbortError'));
      await settle(retry(b.s, { minDelay: 1 }).run());
      expect(b.attempts).toEqual([1]);
    });
  });

  it('gives each nested retry its own attempt numbering', async () => {
    const inner = flaky(1);
    const innerRetry = retry(inner.s, { retries: 1, minDelay: 0, rethrow: true });
    let outerCalls = 0;
    const outer = definePrimitive<void, number>('outer', 'custom', (input, ctx) => {
      outerCalls++;
      return innerRetry.exec(input, ctx).then((v) => {
        if (outerCalls === 1) throw new Error('outer fails once');
        return v;
      });
    });
    await settle(retry(outer, { retries: 1, minDelay: 0 }).run());
    // outer attempt 1 -> inner attempts 1, 2; outer attempt 2 -> inner attempt 1 again (not 2)
    expect(inner.attempts).toEqual([1, 2, 1]);
  });

  describe('options', () => {
    const s = step('noop', () => 1);
    it.each([
      [{ retries: -1 }, /`retries`.*non-negative integer.*-1/],
      [{ retries: 1.5 }, /`retries`/],
      [{ retries: '3' }, /`retries`/],
      [{ retries: Number.NaN }, /`retries`/],
      [{ factor: 0.5 }, /`factor`/],
      [{ minDelay: -1 }, /`minDelay`/],
      [{ minDelay: Infinity }, /`minDelay`/],
      [{ maxDelay: 2 ** 31 }, /`maxDelay`/],
      [{ minDelay: 500, maxDelay: 100 }, /`maxDelay`.*minDelay/],
      [{ jitter: 'half' }, /`jitter`/],
      [{ retryOn: true }, /`retryOn`/],
      [{ retryIf: 'x' }, /`retryIf`/],
      [{ random: 0.5 }, /`random`/],
      [{ retryAfter: 'yes' }, /`retryAfter`/],
      [{ rethrow: 1 }, /`rethrow`/],
      [{ maxRetries: 3 }, /`maxRetries`/],
      ['3', /`options`/],
    ])('throws a TypeError naming the option for %j', (options, message) => {
      expect(() => retry(s, options as never)).toThrow(TypeError);
      expect(() => retry(s, options as never)).toThrow(message);
    });

    it('throws a TypeError when given something that is not a primitive', () => {
      expect(() => retry((() => 1) as unknown as Primitive<void, number>)).toThrow(/`primitive`/);
    });

    it('raises the default maxDelay to a larger minDelay', async () => {
      const { s: f, times } = flaky(1);
      await settle(retry(f, { minDelay: 40_000, jitter: 'none' }).run(), 1_000);
      expect(times[1]! - times[0]!).toBe(40_000);
    });
  });

  describe('properties', () => {
    it('never exceeds its attempts, never sleeps past the deadline, never exceeds maxDelay', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            retries: fc.integer({ min: 0, max: 6 }),
            minDelay: fc.integer({ min: 0, max: 200 }),
            extra: fc.integer({ min: 0, max: 400 }),
            factor: fc.double({ min: 1, max: 4, noNaN: true }),
            jitter: fc.constantFrom('none' as const, 'full' as const, 'decorrelated' as const),
            budget: fc.option(fc.integer({ min: 1, max: 2_000 }), { nil: undefined }),
            hint: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: undefined }),
            successAt: fc.integer({ min: 1, max: 10 }),
            draws: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 10 }),
          }),
          async (o) => {
            const start = Date.now();
            let calls = 0;
            const started: number[] = [];
            let i = 0;
            const random = (): number => o.draws[i++ % o.draws.length]!;
            const s = step('prop', () => {
              calls++;
              started.push(Date.now() - start);
              if (calls < o.successAt) throw o.hint === undefined ? new Error('x') : new RateLimitedError(o.hint);
              return calls;
            });
            const maxDelay = o.minDelay + o.extra;
            const delays: number[] = [];
            const sub = events.subscribe((e) => {
              if (e.type === 'retry.scheduled') delays.push(e.delayMs);
            });
            const retried = retry(s, { retries: o.retries, minDelay: o.minDelay, maxDelay, factor: o.factor, jitter: o.jitter, random });
            // A deadline with no timer of its own, so only retry's discipline keeps it.
            const bounded = definePrimitive<void, number>('bounded', 'custom', (input, ctx) =>
              retried.exec(input, o.budget === undefined ? ctx : ctx.with({ deadline: start + o.budget })),
            );
            const out = await settle(bounded.run(), 25).finally(() => sub.unsubscribe());
            expect(calls).toBeLessThanOrEqual(o.retries + 1);
            const expected = Math.min(o.retries + 1, o.successAt);
            if (o.budget === undefined) expect(calls).toBe(expected);
            else expect(calls).toBeLessThanOrEqual(expected);
            if (o.budget !== undefined) {
              expect(started.every((t) => t < o.budget!)).toBe(true);
              // settles by the deadline, plus at most one advance step of the test clock
              expect(out.at - start).toBeLessThan(o.budget + 25);
            }
            for (const d of delays) {
              expect(d).toBeGreaterThanOrEqual(0);
              expect(d).toBeLessThanOrEqual(maxDelay);
            }
            expect(vi.getTimerCount()).toBe(0);
          },
        ),
        { numRuns: 1000 },
      );
    });
  });
});

describe('retry tracing', () => {
  let tracing: ReturnType<typeof recordSpans>;
  beforeAll(() => {
    tracing = recordSpans();
  });
  afterAll(async () => {
    await tracing.stop();
  });

  it('nests every attempt span under one retry span', async () => {
    tracing.exporter.reset();
    let calls = 0;
    const s = step('traced', () => {
      if (++calls < 3) throw new Error(`fail ${calls}`);
      return 'ok';
    });
    expect(await retry(s, { retries: 3, minDelay: 0 }).run(undefined, { workflow: 'wf' })).toBe('ok');
    const spans = tracing.spans();
    const root = spans.find((x) => x.name === 'wf')!;
    const retrySpan = spans.find((x) => x.name === 'retry traced')!;
    const attempts = spans.filter((x) => x.name === 'traced');
    expect(retrySpan.attributes).toMatchObject({ 'weft.step': 'traced', 'weft.primitive': 'retry', 'weft.retry.attempts': 3, 'weft.retry.max_attempts': 4 });
    expect(parentId(retrySpan)).toBe(root.spanContext().spanId);
    expect(attempts.map((x) => x.attributes['weft.attempt'])).toEqual([1, 2, 3]);
    for (const a of attempts) expect(parentId(a)).toBe(retrySpan.spanContext().spanId);
    expect(retrySpan.events.filter((e) => e.name === 'retry.scheduled')).toHaveLength(2);
  });

  it('marks the retry span failed when it gives up, and ends it on a first success', async () => {
    tracing.exporter.reset();
    const failing = step('always', (_: void) => {
      throw new Error('nope');
    });
    await expect(retry(failing, { retries: 1, minDelay: 0 }).run()).rejects.toBeInstanceOf(RetryExhaustedError);
    const failed = tracing.spans().find((x) => x.name === 'retry always')!;
    expect(failed.status.code).toBe(2); // SpanStatusCode.ERROR
    tracing.exporter.reset();
    await retry(step('fine', (_: void) => 1)).run();
    const ok = tracing.spans().find((x) => x.name === 'retry fine')!;
    expect(ok.attributes['weft.retry.attempts']).toBe(1);
    expect(ok.status.code).not.toBe(2);
  });
});
