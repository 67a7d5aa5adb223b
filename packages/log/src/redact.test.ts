import { describe, expect, it } from 'vitest';
import { redactString, redactValue, REDACTED } from './redact.js';

const SECRET = 'sk-live-0123456789';

describe('redactValue', () => {
  it('returns the same value when it holds no secret', () => {
    const value = { a: [1, 'two', { three: 3 }], d: new Date(0) };
    expect(redactValue(value, [SECRET])).toBe(value);
  });

  it('redacts strings in nested objects and arrays without mutating the input', () => {
    const value = { user: 'ada', auth: { header: `Bearer ${SECRET}` }, list: ['ok', `x${SECRET}x`] };
    const out = redactValue(value, [SECRET]);
    expect(out).toEqual({ user: 'ada', auth: { header: `Bearer ${REDACTED}` }, list: ['ok', `x${REDACTED}x`] });
    expect(value.auth.header).toBe(`Bearer ${SECRET}`);
    expect(out.list).not.toBe(value.list);
  });

  it('redacts keys too', () => {
    expect(redactValue({ [SECRET]: 1 }, [SECRET])).toEqual({ [REDACTED]: 1 });
  });

  it('redacts an error copy that keeps its class, name, message, stack, cause and fields', () => {
    class ApiError extends Error {
      override name = 'ApiError';
      status = 401;
      body = `invalid key ${SECRET}`;
    }
    const error = new ApiError(`rejected ${SECRET}`, { cause: new Error(`cause ${SECRET}`) });
    const out = redactValue(error, [SECRET]);
    expect(out).not.toBe(error);
    expect(out).toBeInstanceOf(ApiError);
    expect(out.name).toBe('ApiError');
    expect(out.message).toBe(`rejected ${REDACTED}`);
    expect(out.stack).not.toContain(SECRET);
    expect((out.cause as Error).message).toBe(`cause ${REDACTED}`);
    expect(out.status).toBe(401);
    expect(out.body).toBe(`invalid key ${REDACTED}`);
    expect(Object.keys(out)).toEqual(Object.keys(error));
    expect(error.message).toBe(`rejected ${SECRET}`);
  });

  it('redacts what toJSON returns', () => {
    const url = new URL(`https://api.test/?key=${SECRET}`);
    expect(redactValue({ url }, [SECRET]).url).toBe(`https://api.test/?key=${REDACTED}`);
  });

  it('survives cycles and cuts off very deep values', () => {
    const cyclic: Record<string, unknown> = { s: SECRET };
    cyclic.self = cyclic;
    expect(redactValue(cyclic, [SECRET])).toEqual({ s: REDACTED, self: '[Circular]' });
    let deep: Record<string, unknown> = { s: SECRET };
    for (let i = 0; i < 20; i++) deep = { deep };
    expect(JSON.stringify(redactValue(deep, [SECRET]))).not.toContain(SECRET);
  });

  it('replaces the longest secret first, so no fragment of it remains', () => {
    expect(redactValue('token=abcdef', ['abc', 'abcdef'])).toBe(`token=${REDACTED}`);
  });
});

describe('redactString', () => {
  it('replaces every occurrence', () => {
    expect(redactString(`${SECRET}:${SECRET}`, [SECRET])).toBe(`${REDACTED}:${REDACTED}`);
  });
});
