import { describe, expect, expectTypeOf, it } from 'vitest';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import { step } from './step.js';
import { currentContext } from '../internal/ctx.js';
import { isValidationError, ValidationError } from '../errors/validation-error.js';
import { isNonErrorThrown } from '../errors/non-error-thrown.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';

describe('step', () => {
  it('runs a sync or async function and returns its result', async () => {
    expect(await step('double', (n: number) => n * 2).run(21)).toBe(42);
    expect(await step('later', async (n: number) => n + 1).run(1)).toBe(2);
  });

  it('rejects invalid input with ValidationError carrying zod issues, before fn runs', async () => {
    let ran = false;
    const greet = step({ name: 'greet', input: z.object({ name: z.string().min(1) }) }, ({ name }) => {
      ran = true;
      return `hi ${name}`;
    });
    const error = await greet.run({ name: 42 } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(isValidationError(error)).toBe(true);
    const v = error as ValidationError;
    expect(v.target).toBe('input');
    expect(v.issues[0]?.path).toEqual(['name']);
    expect(v.message).toContain('name');
    expect(ran).toBe(false);
    expect(await greet.run({ name: 'Ada' })).toBe('hi Ada');
  });

  it('validates the output too', async () => {
    const bad = step({ name: 'bad-out', output: z.number() }, () => 'nope' as unknown as number);
    const error = await bad.run(undefined).catch((e: unknown) => e);
    expect(isValidationError(error) && error.target).toBe('output');
  });

  it('wraps a thrown non-Error into a real error', async () => {
    const error = await step('throws-string', () => {
      throw 'boom';
    })
      .run(undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isNonErrorThrown(error)).toBe(true);
    expect((error as Error).message).toContain('boom');
  });

  it('throws a TypeError naming the option for a bad name or fn', () => {
    expect(() => step('', () => 1)).toThrow(/`name`/);
    expect(() => step('has space', () => 1)).toThrow(TypeError);
    expect(() => step('ok', 42 as never)).toThrow(/`fn`/);
    expect(() => step({ name: 'x', input: {} as never }, () => 1)).toThrow(/`input`/);
  });

  it('exposes the run context to fn and through currentContext()', async () => {
    const seen = await step('ctx', async (_: void, ctx) => {
      await new Promise((r) => setTimeout(r, 1));
      return { fromArg: ctx.correlationId, fromStore: currentContext()?.correlationId, step: ctx.step, workflow: ctx.workflow, attempt: ctx.attempt };
    }).run(undefined, { correlationId: 'req-123' });
    expect(seen).toEqual({ fromArg: 'req-123', fromStore: 'req-123', step: 'ctx', workflow: 'ctx', attempt: 1 });
    expect(currentContext()).toBeUndefined();
  });

  it('replaces a malformed correlation ID and records why, never echoing it', async () => {
    const probe = step('probe', (_: void, ctx) => ({ id: ctx.correlationId, replaced: ctx.correlationIdReplaced }));
    const long = await probe.run(undefined, { correlationId: 'z'.repeat(129) });
    expect(long.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(long.replaced).toBe('too_long');
    const evil = await probe.run(undefined, { correlationId: 'x\r\nSet-Cookie: a=b' });
    expect(evil.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(evil.replaced).toBe('invalid_characters');
    const ok = await probe.run(undefined, { correlationId: 'abc.DEF_1:2-3' });
    expect(ok).toEqual({ id: 'abc.DEF_1:2-3', replaced: undefined });
    const generated = await probe.run(undefined);
    expect(generated.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.replaced).toBeUndefined();
  });

  it('freezes attributes and carries the run deadline', async () => {
    const before = Date.now();
    const seen = await step('attrs', (_: void, ctx) => ({ attrs: ctx.attributes, frozen: Object.isFrozen(ctx.attributes), deadline: ctx.deadline, remaining: ctx.remaining() })).run(
      undefined,
      { attributes: { tenant: 'acme' }, timeout: 5_000 },
    );
    expect(seen.attrs).toEqual({ tenant: 'acme' });
    expect(seen.frozen).toBe(true);
    expect(seen.deadline).toBeGreaterThanOrEqual(before + 5_000);
    expect(seen.remaining).toBeLessThanOrEqual(5_000);
  });

  it('aborts the signal and rejects with AbortedError when the caller aborts', async () => {
    const ac = new AbortController();
    let sawAbort = false;
    const slow = step('slow', (_: void, ctx) => new Promise<void>((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        sawAbort = true;
        reject(ctx.signal.reason);
      });
    }));
    const p = slow.run(undefined, { signal: ac.signal });
    setTimeout(() => ac.abort('user left'), 5);
    const error = await p.catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect((error as Error).cause).toBe('user left');
    expect(sawAbort).toBe(true);
  });

  it('rejects promptly with TimeoutError on a run timeout even if fn ignores its signal', async () => {
    let finish!: () => void;
    const stubborn = step('stubborn', () => new Promise<void>((r) => (finish = r)));
    const t0 = Date.now();
    const error = await stubborn.run(undefined, { timeout: 20 }).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(500);
    finish();
  });

  it('rejects at once when the signal is already aborted, without running fn', async () => {
    let ran = false;
    const error = await step('never', () => {
      ran = true;
    })
      .run(undefined, { signal: AbortSignal.abort('gone') })
      .catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(ran).toBe(false);
  });

  it('is an immutable value', () => {
    const s = step('frozen', () => 1);
    expect(Object.isFrozen(s)).toBe(true);
  });
});

describe('secrets', () => {
  it('are readable by steps but kept out of attributes', async () => {
    const seen = await step('uses-secret', (_: void, ctx) => ({ key: ctx.secret('apiKey'), attrs: ctx.attributes, missing: ctx.secret('nope') })).run(undefined, {
      secrets: { apiKey: 'sk-live-123' },
      attributes: { tenant: 't1' },
    });
    expect(seen).toEqual({ key: 'sk-live-123', attrs: { tenant: 't1' }, missing: undefined });
  });
});

describe('Standard Schema', () => {
  /** A hand-written Standard Schema, as valibot or arktype would give: no zod involved. */
  const evenNumber = (options: { async?: boolean } = {}): StandardSchemaV1<unknown, number> => ({
    '~standard': {
      version: 1,
      vendor: 'test',
      validate(value) {
        const result: StandardSchemaV1.Result<number> =
          typeof value === 'number' && value % 2 === 0 ? { value } : { issues: [{ message: 'must be even', path: [{ key: 'n' }] }] };
        return options.async ? Promise.resolve(result) : result;
      },
    },
  });

  it('accepts any Standard Schema, and infers the input type from it', async () => {
    const half = step({ name: 'half', input: evenNumber() }, (n) => n / 2);
    expectTypeOf<Parameters<typeof half.run>[0]>().toEqualTypeOf<unknown>();
    expect(await half.run(8)).toBe(4);
    const error = await half.run(3).catch((e: unknown) => e);
    expect(isValidationError(error)).toBe(true);
    expect((error as ValidationError).issues).toEqual([{ path: ['n'], message: 'must be even', code: undefined }]);
  });

  it('waits for a schema that validates asynchronously, for input and output', async () => {
    let calls = 0;
    const s = step({ name: 'async-schema', input: evenNumber({ async: true }), output: evenNumber({ async: true }) }, (n) => {
      calls++;
      return n + 1;
    });
    const inputError = await s.run(3).catch((e: unknown) => e);
    expect((inputError as ValidationError).target).toBe('input');
    expect(calls).toBe(0);
    const outputError = await s.run(2).catch((e: unknown) => e);
    expect((outputError as ValidationError).target).toBe('output');
    expect(calls).toBe(1);
  });

  it('keeps zod issue codes', async () => {
    const error = await step({ name: 'zod-code', input: z.string() }, (s) => s).run(1 as unknown as string).catch((e: unknown) => e);
    expect((error as ValidationError).issues[0]?.code).toBe('invalid_type');
  });

  it('rejects a value that is not a Standard Schema when built, naming the option', () => {
    expect(() => step({ name: 'bad', input: { parse: () => 1 } as never }, (x) => x)).toThrow(/`input`.*Standard Schema/);
  });
});
