import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { trace } from '@opentelemetry/api';
import { step } from '@weft/core';
import { recordSpans } from '@weft/testing';
import { createLogger, fromPino, weftPinoOptions } from './pino.js';
import { LEVEL, MemoryStream } from './test-support/memory-stream.js';

const SECRET = 'sk-live-9f8e7d6c5b4a';
const tracing = recordSpans();
afterAll(() => tracing.stop());

let out: MemoryStream;
beforeEach(() => {
  out = new MemoryStream();
  tracing.exporter.reset();
});

describe('createLogger', () => {
  it('stamps correlation_id, run_id, trace_id and span_id on every line logged during a run', async () => {
    const log = createLogger({ destination: out, level: 'debug' });
    const flow = step('work', async () => {
      log.info('first');
      await new Promise((r) => setTimeout(r, 1));
      log.child({ component: 'billing' }).debug({ amount: 3 }, 'second');
      return trace.getActiveSpan()!.spanContext();
    });
    const span = await flow.run(undefined, { correlationId: 'req-1' });
    expect(out.lines).toHaveLength(2);
    for (const line of out.lines) {
      expect(line).toMatchObject({ correlation_id: 'req-1', trace_id: span.traceId, span_id: span.spanId });
      expect(line.run_id).toEqual(expect.any(String));
    }
    expect(out.lines[1]).toMatchObject({ level: LEVEL.debug, component: 'billing', amount: 3, msg: 'second' });
  });

  it('adds no run fields outside a run', () => {
    const log = createLogger({ destination: out });
    log.info({ a: 1 }, 'outside');
    expect(out.lines[0]).not.toHaveProperty('correlation_id');
    expect(out.lines[0]).not.toHaveProperty('trace_id');
    expect(out.lines[0]).toMatchObject({ a: 1, msg: 'outside' });
  });

  it('keeps concurrent runs apart', async () => {
    const log = createLogger({ destination: out });
    const logIt = (id: string) =>
      step(`s-${id}`, async () => {
        await new Promise((r) => setTimeout(r, 2));
        log.info(id);
      }).run(undefined, { correlationId: id });
    await Promise.all([logIt('a'), logIt('b'), logIt('c')]);
    for (const line of out.lines) expect(line.correlation_id).toBe(line.msg);
  });

  it('never logs a secret of the run: not in the message, objects, errors, bindings or keys', async () => {
    const log = createLogger({ destination: out, level: 'debug' });
    const flow = step('call-api', (_: void, ctx) => {
      const key = ctx.secret('apiKey')!;
      log.info(`calling with ${key}`);
      log.info({ request: { headers: { authorization: `Bearer ${key}` }, tries: [key] }, [key]: 'as a key' }, 'request');
      log.error(new Error(`401 for key ${key}`, { cause: new Error(key) }));
      log.warn({ err: new TypeError(`bad ${key}`) }, `failed: ${key}`);
      log.child({ apiKey: key }).info('bound');
    });
    await flow.run(undefined, { secrets: { apiKey: SECRET } });
    expect(out.raw).toHaveLength(5);
    expect(out.text).not.toContain(SECRET);
    expect(out.text).toContain('[REDACTED]');
    // Structure survives: every line is JSON, and fields are where they were.
    expect(out.lines[1]).toMatchObject({ request: { headers: { authorization: 'Bearer [REDACTED]' }, tries: ['[REDACTED]'] } });
    expect(out.lines[2]).toMatchObject({ level: LEVEL.error, err: { type: 'Error', message: expect.stringContaining('401 for key [REDACTED]') as unknown } });
    expect(out.lines[4]).toMatchObject({ apiKey: '[REDACTED]', msg: 'bound' });
  });

  it('never puts a secret on a span', async () => {
    const log = createLogger({ destination: out });
    await step('call-api', (_: void, ctx) => log.info({ key: ctx.secret('apiKey') }, 'x')).run(undefined, { secrets: { apiKey: SECRET } });
    const spans = tracing.spans();
    expect(spans.length).toBeGreaterThan(0);
    expect(JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events]))).not.toContain(SECRET);
  });

  it('redacts secrets from raw pino children and escaped JSON through the line-level safety net', async () => {
    const tricky = 'pa"ss\\word-2024';
    const raw = pino(weftPinoOptions(), out);
    await step('s', (_: void, ctx) => {
      raw.child({ token: ctx.secret('a'), other: ctx.secret('b') }).info('child line');
    }).run(undefined, { secrets: { a: SECRET, b: tricky } });
    expect(out.text).not.toContain(SECRET);
    expect(out.text).not.toContain(JSON.stringify(tricky).slice(1, -1));
    expect(out.lines[0]).toMatchObject({ token: '[REDACTED]', other: '[REDACTED]' });
  });

  it('redacts short secrets from logged values, where the line-level net does not look', async () => {
    const log = createLogger({ destination: out });
    await step('s', (_: void, ctx) => log.info({ pin: `pin=${ctx.secret('pin')}` }, `pin ${ctx.secret('pin')}`)).run(undefined, { secrets: { pin: '90210' } });
    expect(out.text).not.toContain('90210');
    expect(out.lines[0]).toMatchObject({ pin: 'pin=[REDACTED]', msg: 'pin [REDACTED]' });
  });

  it('leaves other runs and lines outside runs untouched', async () => {
    const log = createLogger({ destination: out });
    log.info(SECRET);
    await step('s', () => log.info(SECRET)).run(undefined, { secrets: { other: 'different-secret' } });
    expect(out.lines.map((l) => l.msg)).toEqual([SECRET, SECRET]);
  });

  it('writes nothing below its level', () => {
    const log = createLogger({ destination: out, level: 'warn' });
    log.info('quiet');
    log.warn('loud');
    expect(out.lines.map((l) => l.msg)).toEqual(['loud']);
    expect(log.isLevelEnabled?.('info')).toBe(false);
  });

  it('keeps the user mixin and hooks', () => {
    const seen: string[] = [];
    const raw = pino(
      weftPinoOptions({
        mixin: () => ({ service: 'checkout' }),
        hooks: {
          logMethod(args, method) {
            seen.push(String(args[0]));
            method.apply(this, args);
          },
        },
      }),
      out,
    );
    fromPino(raw).info('hello');
    expect(seen).toEqual(['hello']);
    expect(out.lines[0]).toMatchObject({ service: 'checkout', msg: 'hello' });
  });

  it('never throws from a log call', () => {
    const log = createLogger({ destination: out });
    const hostile = {
      get boom(): string {
        throw new Error('getter');
      },
    };
    expect(() => log.info(hostile, 'x')).not.toThrow();
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/`level`/);
    expect(() => createLogger({ destination: {} as never })).toThrow(/`destination`/);
    expect(() => createLogger({ name: 1 as never })).toThrow(/`name`/);
  });
});

describe('fromPino', () => {
  it('adds run fields and redacts secrets for a plain pino logger', async () => {
    const log = fromPino(pino({ level: 'debug' }, out));
    await step('a', (_: void, ctx) => {
      log.info({ key: ctx.secret('k') }, `key ${ctx.secret('k')}`);
      log.child({ k: ctx.secret('k') }).error(new Error(`oops ${ctx.secret('k')}`));
    }).run(undefined, { correlationId: 'req-9', secrets: { k: SECRET } });
    expect(out.raw).toHaveLength(2);
    expect(out.text).not.toContain(SECRET);
    for (const line of out.lines) expect(line).toMatchObject({ correlation_id: 'req-9', trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown });
    const errorLine = out.lines.find((l) => l.level === LEVEL.error)!;
    expect(errorLine).toMatchObject({ msg: 'oops [REDACTED]', err: { message: 'oops [REDACTED]' }, k: '[REDACTED]' });
  });

  it('does not add the fields twice to a logger built with weftPinoOptions', async () => {
    const log = fromPino(pino(weftPinoOptions(), out));
    await step('s', () => log.info('once')).run(undefined, { correlationId: 'req-2' });
    expect(out.raw[0]!.match(/"correlation_id"/g)).toHaveLength(1);
  });

  it('rejects something that is not a pino logger', () => {
    expect(() => fromPino({} as never)).toThrow(/`logger`/);
  });
});
