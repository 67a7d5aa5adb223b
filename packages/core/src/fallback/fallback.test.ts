import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Subscription } from 'rxjs';
import { fallback } from './fallback.js';
import { step } from '../index.js';
import { FallbackError, isFallbackError } from '../errors/fallback-error.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { isNonErrorThrown } from '../errors/non-error-thrown.js';
import { ValidationError } from '../errors/validation-error.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { currentContext } from '../internal/ctx.js';

const failing = (name: string, message = name) =>
  step(name, (_: number): string => {
    throw new Error(message);
  });

describe('fallback', () => {
  const subs: Subscription[] = [];
  afterEach(() => {
    subs.splice(0).forEach((s) => s.unsubscribe());
    vi.useRealTimers();
  });

  function record(): WeftEvent[] {
    const seen: WeftEvent[] = [];
    subs.push(events.subscribe((e) => (e.type === 'fallback.served' || e.type === 'fallback.exhausted') && seen.push(e)));
    return seen;
  }

  it('serves from the primary without touching the alternatives', async () => {
    const alt = vi.fn(() => 'alt');
    const flow = step('primary', (n: number) => `p${n}`).fallback(alt);
    expect(await flow.run(1)).toBe('p1');
    expect(alt).not.toHaveBeenCalled();
  });

  it('tries the alternatives in order and stops at the first that succeeds', async () => {
    const calls: string[] = [];
    const tracked = (name: string, ok: boolean) =>
      step(name, (n: number) => {
        calls.push(name);
        if (!ok) throw new Error(name);
        return `${name}:${n}`;
      });
    const flow = fallback(tracked('primary', false), tracked('a', false), tracked('b', true), tracked('c', true));
    expect(await flow.run(7)).toBe('b:7');
    expect(calls).toEqual(['primary', 'a', 'b']);
  });

  it('gives each alternative the original input, and a function alternative the error that led to it', async () => {
    const seen: Array<{ input: number; error: string; correlationId: string }> = [];
    const mirror = step('mirror', (n: number): string => {
      seen.push({ input: n, error: '(primitive)', correlationId: currentContext()!.correlationId });
      throw new Error('mirror down');
    });
    const flow = failing('primary', 'primary down').fallback(
      mirror,
      (input, error, ctx) => {
        seen.push({ input, error: error.message, correlationId: ctx.correlationId });
        throw new Error('cache miss');
      },
      (input, error, ctx) => {
        seen.push({ input, error: error.message, correlationId: ctx.correlationId });
        return `default for ${input}`;
      },
    );
    expect(await flow.run(42, { correlationId: 'fb-1' })).toBe('default for 42');
    expect(seen).toEqual([
      { input: 42, error: '(primitive)', correlationId: 'fb-1' },
      { input: 42, error: 'mirror down', correlationId: 'fb-1' },
      { input: 42, error: 'cache miss', correlationId: 'fb-1' },
    ]);
  });

  it('runs a function alternative as its own step, visible through currentContext()', async () => {
    const flow = failing('primary').fallback(async function staleQuote(_n) {
      await Promise.resolve();
      return currentContext()!.step;
    });
    expect(await flow.run(1)).toBe('staleQuote');
  });

  it('rejects with one FallbackError carrying every cause in order, primary first', async () => {
    const flow = failing('primary', 'p').fallback(failing('a', 'a'), () => {
      throw new Error('b');
    });
    const error = await flow.run(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FallbackError);
    expect(isFallbackError(error)).toBe(true);
    const errors = (error as FallbackError).errors;
    expect(errors.map((e) => (e as Error).message)).toEqual(['p', 'a', 'b']);
    expect((error as FallbackError).cause).toBe(errors[2]);
  });

  it('wraps thrown non-Errors, synchronous or not, into real errors', async () => {
    const flow = step('primary', (): number => {
      throw 'nope';
    }).fallback(() => Promise.reject(42));
    const error = (await flow.run(undefined).catch((e: unknown) => e)) as FallbackError;
    expect(error.errors).toHaveLength(2);
    expect(error.errors.every(isNonErrorThrown)).toBe(true);
  });

  it('propagates at once, as it is, an error that `when` does not handle', async () => {
    const alt = vi.fn(() => 'alt');
    const invalid = new ValidationError('primary', 'input', [{ path: ['x'], message: 'bad' }]);
    const flow = step('primary', (_: number): string => {
      throw invalid;
    }).fallback(alt, { when: (e) => e.name !== 'ValidationError' });
    await expect(flow.run(1)).rejects.toBe(invalid);
    expect(alt).not.toHaveBeenCalled();
  });

  it('applies `when` to the errors of the alternatives too', async () => {
    const last = vi.fn(() => 'last');
    const fatal = new Error('fatal');
    const flow = failing('primary', 'transient').fallback(
      () => {
        throw fatal;
      },
      last,
      { when: (e) => e.message === 'transient' },
    );
    await expect(flow.run(1)).rejects.toBe(fatal);
    expect(last).not.toHaveBeenCalled();
  });

  it('passes the run context to `when`', async () => {
    const when = vi.fn((_e: Error, ctx: { correlationId: string }) => ctx.correlationId === 'ok-1');
    const flow = failing('primary').fallback(() => 'alt', { when });
    expect(await flow.run(1, { correlationId: 'ok-1' })).toBe('alt');
    await expect(flow.run(1, { correlationId: 'other' })).rejects.toThrow('primary');
    expect(when).toHaveBeenCalledTimes(2);
  });

  it('never falls back when the caller aborted', async () => {
    const alt = vi.fn(() => 'alt');
    const controller = new AbortController();
    const primary = step('primary', (_: number, ctx) => new Promise<string>((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));
    const p = primary.fallback(alt).run(1, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort('user left');
    expect(isAbortedError(await p)).toBe(true);
    expect(alt).not.toHaveBeenCalled();
  });

  it('falls back on an inner timeout, which is not an abort of the caller', async () => {
    vi.useFakeTimers();
    const slow = step('slow', (_: number) => new Promise<string>(() => {}));
    const p = slow.timeout(100).fallback(() => 'fast answer').run(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await p).toBe('fast answer');
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports which alternative served, by index and name, but not the primary's own successes", async () => {
    const seen = record();
    await step('primary', (n: number) => String(n)).fallback(() => 'x').run(1);
    expect(seen).toHaveLength(0);

    await failing('primary', 'p').fallback(failing('mirror', 'm'), function fromCache() {
      return 'cached';
    }).run(1);
    expect(seen).toHaveLength(1);
    const served = seen[0]!;
    expect(served.type).toBe('fallback.served');
    if (served.type !== 'fallback.served') return;
    expect(served.index).toBe(2);
    expect(served.served).toBe('fromCache');
    expect(served.step).toBe('primary');
    expect(served.primitive).toBe('fallback');
    expect(served.errors.map((e) => (e as Error).message)).toEqual(['p', 'm']);

    seen.length = 0;
    await failing('primary').fallback(step('mirror', () => 'mirrored')).run(1);
    expect(seen.map((e) => e.type === 'fallback.served' && `${e.index}:${e.served}`)).toEqual(['1:mirror']);

    seen.length = 0;
    await failing('primary').fallback(() => 'anonymous').run(1);
    expect(seen.map((e) => e.type === 'fallback.served' && e.served)).toEqual(['alternative-1']);
  });

  it('reports exhaustion with every error', async () => {
    const seen = record();
    await failing('primary', 'p').fallback(failing('a', 'a')).run(1).catch(() => {});
    expect(seen).toHaveLength(1);
    const e = seen[0]!;
    expect(e.type === 'fallback.exhausted' && e.errors.map((x) => (x as Error).message)).toEqual(['p', 'a']);
  });

  it('keeps the primary name and reports its kind as fallback', () => {
    const flow = failing('primary').fallback(() => 'x');
    expect(flow.name).toBe('primary');
    expect(flow.kind).toBe('fallback');
  });

  it('throws a TypeError naming the option for bad arguments', () => {
    const p = failing('primary');
    expect(() => fallback(p, ...([] as unknown as [() => string]))).toThrow(/`alternatives`/);
    expect(() => fallback(p, ...([{ when: () => true }] as unknown as [() => string]))).toThrow(/`alternatives`/);
    expect(() => fallback(p, 42 as never)).toThrow(/`alternatives\[0\]`/);
    expect(() => fallback(p, () => 'a', null as never, () => 'b')).toThrow(/`alternatives\[1\]`/);
    expect(() => fallback(p, () => 'a', { when: 'yes' } as never)).toThrow(/`when`/);
    expect(() => fallback({} as never, () => 'a')).toThrow(/`primitive`/);
  });
});
