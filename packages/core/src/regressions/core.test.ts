import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { config as rxConfig, map } from 'rxjs';
import { z } from 'zod';
import { recordSpans } from '../../../testing/src/record-spans.js';
import { step } from '../step/step.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { isTimeoutError } from '../errors/timeout-error.js';

describe('review: step output validation', () => {
  let t: ReturnType<typeof recordSpans>;
  beforeAll(() => {
    t = recordSpans();
  });
  afterAll(async () => {
    await t.stop();
  });
  beforeEach(() => t.exporter.reset());

  it('ends the step span with error status when the OUTPUT fails validation (async fn)', async () => {
    const bad = step({ name: 'bad-output', output: z.number() }, async () => 'not a number' as unknown as number);
    await expect(bad.run(undefined, { workflow: 'wf-out' })).rejects.toThrow(/Invalid output/);
    const names = t.spans().map((s) => s.name);
    expect(names).toContain('wf-out');
    expect(names).toContain('bad-output');
  });

  it('ends the step span when the OUTPUT fails validation (sync fn)', async () => {
    const bad = step({ name: 'bad-output-sync', output: z.number() }, () => 'nope' as unknown as number);
    await expect(bad.run(undefined, { workflow: 'wf-out-sync' })).rejects.toThrow(/Invalid output/);
    expect(t.spans().map((s) => s.name)).toContain('bad-output-sync');
  });

  it('emits step.finished (outcome error) when the OUTPUT fails validation', async () => {
    const seen: WeftEvent[] = [];
    const sub = events.subscribe((e) => seen.push(e));
    try {
      const bad = step({ name: 'bad-output-ev', output: z.number() }, async () => 'x' as unknown as number);
      await bad.run(undefined).catch(() => undefined);
    } finally {
      sub.unsubscribe();
    }
    const finished = seen.filter((e) => e.type === 'step.finished' && e.step === 'bad-output-ev');
    expect(finished).toHaveLength(1);
  });
});

describe('review: run options', () => {
  it('does not time out at once when the deadline is more than 2^31-1 ms away', async () => {
    const slowish = step('slowish', () => new Promise<string>((r) => setTimeout(() => r('ok'), 30)));
    // 30 days from now: a perfectly reasonable "deadline far in the future".
    await expect(slowish.run(undefined, { deadline: Date.now() + 30 * 24 * 3600_000 })).resolves.toBe('ok');
  });

  it('does not time out at once with timeout: 2^31 ms', async () => {
    const slowish = step('slowish2', () => new Promise<string>((r) => setTimeout(() => r('ok'), 30)));
    await expect(slowish.run(undefined, { timeout: 2 ** 31 })).resolves.toBe('ok');
  });

  it('accepts deadline: Infinity as "no deadline" (or rejects it with a TypeError), never a 1 ms timeout', async () => {
    const slowish = step('slowish3', () => new Promise<string>((r) => setTimeout(() => r('ok'), 30)));
    let outcome: unknown;
    try {
      outcome = await slowish.run(undefined, { deadline: Infinity });
    } catch (e) {
      outcome = e;
    }
    expect(isTimeoutError(outcome)).toBe(false);
  });

  it('never calls the step function when the deadline has already passed', async () => {
    let called = false;
    const s = step('late', () => {
      called = true;
      return 1;
    });
    await expect(s.run(undefined, { deadline: Date.now() - 1_000 })).rejects.toSatisfy(isTimeoutError);
    expect(called).toBe(false);
  });

  it('rejects (instead of throwing synchronously) on an invalid run option, so .catch() handles it', () => {
    const s = step('sync-throw', () => 1);
    let syncThrow: unknown;
    let p: Promise<unknown> | undefined;
    try {
      p = s.run(undefined, { timeout: -1 });
    } catch (e) {
      syncThrow = e;
    }
    p?.catch(() => undefined);
    expect(syncThrow).toBeUndefined();
  });
});

describe('review: a throwing subscriber never breaks anything', () => {
  it('an operator in events.pipe() that throws does not reach rxjs unhandled-error reporting (which crashes the process)', async () => {
    const unhandled: unknown[] = [];
    const previous = rxConfig.onUnhandledError;
    rxConfig.onUnhandledError = (e) => unhandled.push(e);
    const sub = events
      .pipe(map((e) => (e as { error?: Error }).error!.message)) // a typical subscriber bug: TypeError on events without `error`
      .subscribe((m) => void m);
    try {
      await step('probe-sub', () => 1).run(undefined);
      await new Promise((r) => setTimeout(r, 5));
    } finally {
      sub.unsubscribe();
      rxConfig.onUnhandledError = previous;
    }
    expect(unhandled).toEqual([]);
  });
});
