import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { circuitBreaker, RateLimiter, step, type WeftEvent } from '@weft/core';
import { z } from 'zod';
import { testClock } from '@weft/testing';
import { createLogger } from './pino.js';
import { logEvents } from './log-events.js';
import type { Logger } from './logger.js';
import { LEVEL, MemoryStream } from './test-support/memory-stream.js';

let out: MemoryStream;
let stop: (() => void) | undefined;
beforeEach(() => {
  out = new MemoryStream();
});
afterEach(() => {
  stop?.();
  stop = undefined;
});

const byEvent = (type: string) => out.lines.filter((l) => l.event === type);

/** A step that fails `failures` times and then succeeds. */
function flaky(failures: number) {
  let calls = 0;
  return step('flaky', () => {
    if (calls++ < failures) throw new Error(`boom ${calls}`);
    return 'ok';
  });
}

describe('logEvents', () => {
  it('bounds the lines per second of one event type and level, and says how many it dropped', async () => {
    const clock = testClock();
    stop = logEvents(createLogger({ destination: out, level: 'debug' }), { maxPerSecond: 3 });
    const failing = step('down', (): string => {
      throw new Error('store unreachable');
    });
    for (let i = 0; i < 10; i++) await failing.run(undefined).catch(() => undefined);
    expect(byEvent('run.finished')).toHaveLength(3);
    await clock.tick(1_000);
    await failing.run(undefined).catch(() => undefined);
    const lines = byEvent('run.finished');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ suppressed: 7 });
    clock.uninstall();
  });

  it("logs a caller's refusal (rate limit, budget) at info without a stack, and the service's own failure at error with one", async () => {
    stop = logEvents(createLogger({ destination: out, level: 'debug' }));
    const limited = step('ask', () => 'ok').rateLimit(new RateLimiter({ key: 'log-test', rate: 1, per: 60_000, burst: 1 }));
    await limited.run(undefined);
    await expect(limited.run(undefined)).rejects.toThrow();
    await expect(step('broken', (): string => { throw new Error('database down'); }).run(undefined)).rejects.toThrow('database down');
    const runs = byEvent('run.finished').filter((l) => l.outcome === 'error');
    const refusal = runs.find((l) => l.workflow === 'ask')!;
    const failure = runs.find((l) => l.workflow === 'broken')!;
    expect(refusal.level).toBe(LEVEL.info);
    expect(refusal.err).toBeUndefined();
    expect(refusal.refusal).toMatchObject({ type: 'RateLimitedError', message: expect.stringMatching(/Rate limited/) as unknown });
    expect(byEvent('ratelimit.rejected')[0]?.level).toBe(LEVEL.info);
    expect(failure.level).toBe(LEVEL.error);
    expect((failure.err as { stack?: string }).stack).toMatch(/database down/);
  });

  it('logs a validation failure by its shape, never the input that zod quotes back', async () => {
    stop = logEvents(createLogger({ destination: out, level: 'debug' }));
    const strict = step({ name: 'validate', input: z.strictObject({ question: z.string() }) }, (b) => b.question);
    await expect(strict.run({ question: 'hi', zqxLEAKqxz: 1 } as never)).rejects.toThrow();
    const text = out.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).toContain('"step":"validate"');
    expect(text).toContain('invalid input for step');
    expect(text).not.toContain('zqxLEAKqxz');
  });

  it('logs intermediate retry failures at warn and only the final failure at error', async () => {
    stop = logEvents(createLogger({ destination: out, level: 'debug' }));
    const flow = flaky(10).retry({ retries: 2, minDelay: 0, maxDelay: 0 });
    await expect(flow.run(undefined, { correlationId: 'req-1' })).rejects.toThrow();

    const scheduled = byEvent('retry.scheduled');
    expect(scheduled).toHaveLength(2);
    for (const line of scheduled) expect(line).toMatchObject({ level: LEVEL.warn, final: false, correlation_id: 'req-1' });
    expect(byEvent('retry.gave_up')).toEqual([expect.objectContaining({ level: LEVEL.error, final: true, attempts: 3, reason: 'exhausted' })]);
    expect(byEvent('run.finished')).toEqual([expect.objectContaining({ level: LEVEL.error, outcome: 'error', err: expect.objectContaining({ message: expect.any(String) as unknown }) as unknown })]);
    // The retry's final failure and the run's failure are the only error lines.
    expect(out.lines.filter((l) => (l.level as number) >= LEVEL.error).map((l) => l.event)).toEqual(['retry.gave_up', 'run.finished']);
  });

  it('logs intermediate retries at debug when asked, and a recovered retry without any error', async () => {
    stop = logEvents(createLogger({ destination: out, level: 'debug' }), { retryLevel: 'debug' });
    await flaky(1).retry({ retries: 2, minDelay: 0, maxDelay: 0 }).run(undefined);
    expect(byEvent('retry.scheduled')).toEqual([expect.objectContaining({ level: LEVEL.debug })]);
    expect(byEvent('retry.succeeded')).toEqual([expect.objectContaining({ level: LEVEL.info, attempts: 2 })]);
    expect(out.lines.some((l) => (l.level as number) >= LEVEL.warn)).toBe(false);
  });

  it('logs a successful run at debug, so an info logger stays quiet', async () => {
    stop = logEvents(createLogger({ destination: out, level: 'info' }));
    await step('fine', () => 1).run(undefined);
    expect(out.raw).toEqual([]);
  });

  it('logs a failed run at error with the error serialised and a readable message', async () => {
    stop = logEvents(createLogger({ destination: out }));
    await expect(step('broken', () => Promise.reject(new RangeError('out of range'))).run(undefined, { correlationId: 'req-2' })).rejects.toThrow();
    expect(out.lines).toEqual([
      expect.objectContaining({ level: LEVEL.error, event: 'run.finished', workflow: 'broken', correlation_id: 'req-2', msg: 'run broken failed: out of range', err: expect.objectContaining({ type: 'RangeError' }) as unknown }) as unknown,
    ]);
  });

  it('logs circuit state changes at warn', async () => {
    stop = logEvents(createLogger({ destination: out }));
    const guarded = circuitBreaker(step('dep', () => Promise.reject(new Error('down'))), { name: 'dep-breaker', threshold: 2, openMs: 60_000 });
    for (let i = 0; i < 3; i++) await guarded.run(undefined).catch(() => undefined);
    expect(byEvent('circuit.state_changed')).toEqual([expect.objectContaining({ level: LEVEL.warn, breaker: 'dep-breaker', from: 'closed', to: 'open', msg: 'circuit dep-breaker closed -> open' })]);
    expect(byEvent('circuit.rejected')).toEqual([expect.objectContaining({ level: LEVEL.warn })]);
  });

  it('applies per-type levels and the filter', async () => {
    stop = logEvents(createLogger({ destination: out, level: 'debug' }), {
      levels: { 'run.finished': 'silent', 'step.started': 'info' },
      filter: (e) => e.type !== 'step.finished',
    });
    await step('s', () => 1).run(undefined);
    expect(out.lines.map((l) => [l.event, l.level])).toEqual([
      ['run.started', LEVEL.debug],
      ['step.started', LEVEL.info],
    ]);
  });

  it('stops logging when unsubscribed', async () => {
    const unsubscribe = logEvents(createLogger({ destination: out, level: 'debug' }));
    unsubscribe();
    await step('s', () => 1).run(undefined);
    expect(out.raw).toEqual([]);
  });

  it('never throws into a run, even when the logger or the filter throws', async () => {
    const throwing: Logger = {
      debug: () => {
        throw new Error('logger broke');
      },
      info: () => {
        throw new Error('logger broke');
      },
      warn: () => {
        throw new Error('logger broke');
      },
      error: () => {
        throw new Error('logger broke');
      },
      child: () => throwing,
    };
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const stops = [logEvents(throwing), logEvents(createLogger({ destination: out }), { filter: () => { throw new Error('filter broke'); } })];
    try {
      await expect(step('s', () => 42).run(undefined)).resolves.toBe(42);
      await expect(flaky(1).retry({ retries: 1, minDelay: 0, maxDelay: 0 }).run(undefined)).resolves.toBe('ok');
      // Warnings about throwing subscribers arrive on a later tick.
      await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      for (const s of stops) s();
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it("redacts the run's secrets from event lines when the run's context is current", async () => {
    stop = logEvents(createLogger({ destination: out, level: 'debug' }));
    // Delivered from inside a step, where currentContext() is the run's: the secrets are known.
    const hub = (globalThis as Record<symbol, { emit(e: WeftEvent): void }>)[Symbol.for('weft.event-hub.v3')]!;
    await step('s', (_: void, ctx) => {
      hub.emit({ type: 'fallback.exhausted', workflow: 'w', step: 's', primitive: 'fallback', correlationId: ctx.correlationId, runId: ctx.runId, time: 0, errors: [new Error(`bad key ${ctx.secret('k')}`)] });
    }).run(undefined, { secrets: { k: 'sk-test-abcdef123456' } });
    const line = byEvent('fallback.exhausted')[0]!;
    expect(line).toMatchObject({ level: LEVEL.error, errors: [{ type: 'Error', message: 'bad key [REDACTED]' }] });
    expect(out.text).not.toContain('sk-test-abcdef123456');
  });

  it('rejects bad options with a TypeError naming the option', () => {
    const log = createLogger({ destination: out });
    expect(() => logEvents({} as never)).toThrow(/`logger`/);
    expect(() => logEvents(log, { retryLevel: 'error' as never })).toThrow(/`retryLevel`/);
    expect(() => logEvents(log, { levels: { 'run.started': 'loud' as never } })).toThrow(/`levels.run.started`/);
    expect(() => logEvents(log, { filter: 1 as never })).toThrow(/`filter`/);
  });
});
