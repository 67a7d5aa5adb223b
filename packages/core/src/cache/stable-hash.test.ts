import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalize, stableHash } from './stable-hash.js';

describe('stableHash', () => {
  it('is a 64-character hex SHA-256', () => {
    expect(stableHash('x')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash for objects whose keys are in another order, at any depth', () => {
    expect(stableHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(stableHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  });

  it('keeps array order significant', () => {
    expect(stableHash([1, 2])).not.toBe(stableHash([2, 1]));
  });

  it('treats an undefined property as a missing one, as JSON does', () => {
    expect(stableHash({ a: 1, b: undefined })).toBe(stableHash({ a: 1 }));
  });

  it('tells apart values that JSON would confuse', () => {
    const values: unknown[] = [1, '1', null, undefined, 'null', NaN, Infinity, -Infinity, 1n, true, 'true', [undefined], [null], new Date(0), new Date(0).toISOString(), new Map([['a', 1]]), { a: 1 }, new Set([1]), [1], {}, [], ''];
    const hashes = new Set(values.map((v) => stableHash(v)));
    expect(hashes.size).toBe(values.length);
  });

  it('hashes -0 like 0', () => {
    expect(stableHash(-0)).toBe(stableHash(0));
  });

  it('ignores insertion order in Map and Set', () => {
    expect(stableHash(new Map([['a', 1], ['b', 2]]))).toBe(stableHash(new Map([['b', 2], ['a', 1]])));
    expect(stableHash(new Set([1, 2]))).toBe(stableHash(new Set([2, 1])));
    expect(stableHash(new Map([['a', 1]]))).not.toBe(stableHash(new Map([['a', 2]])));
  });

  it('hashes dates by instant, typed arrays by content, and objects with toJSON through it', () => {
    expect(stableHash(new Date(5))).toBe(stableHash(new Date(5)));
    expect(stableHash(new Date(5))).not.toBe(stableHash(new Date(6)));
    expect(stableHash(new Date(NaN))).toBe(stableHash(new Date(NaN)));
    expect(stableHash(new Uint8Array([1, 2]))).toBe(stableHash(new Uint8Array([0, 1, 2]).subarray(1)));
    expect(stableHash(new Uint8Array([1, 2]))).not.toBe(stableHash(new Uint8Array([2, 1])));
    expect(stableHash(new URL('https://a.example/x'))).toBe(stableHash('https://a.example/x'));
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(() => stableHash({ a: shared, b: shared, c: [shared, shared] })).not.toThrow();
  });

  it('rejects functions, symbols, cycles and class instances with a TypeError pointing at `key`', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    class Point {
      constructor(readonly x: number) {}
    }
    for (const bad of [() => 1, Symbol('s'), cyclic, new Point(1), { nested: [new Point(2)] }]) {
      expect(() => stableHash(bad)).toThrow(TypeError);
      expect(() => stableHash(bad)).toThrow(/`key`/);
    }
    expect(() => stableHash(new Point(1))).toThrow(/Point/);
    expect(() => stableHash(cyclic)).toThrow(/cyclic/);
  });

  it('produces a canonical form independent of key order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        return canonicalize(obj) === canonicalize(reversed) && stableHash(obj) === stableHash(reversed);
      }),
      { numRuns: 300 },
    );
  });

  it('writes strings exactly as JSON.stringify does, lone surrogates and escapes included (property)', () => {
    const anyUtf16 = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 80 }).map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(anyUtf16, (text) => canonicalize(text) === JSON.stringify(text) && canonicalize({ [text]: 1 }) === `{${JSON.stringify(text)}:1}`),
      { numRuns: 1000 },
    );
  });

  it('gives different canonical forms to different JSON values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b));
        return (canonicalize(a) === canonicalize(b)) === same;
      }),
      { numRuns: 500 },
    );
  });
});

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]));
  }
  // JSON cannot tell -0 from 0 and neither can the cache key.
  return value === 0 ? 0 : value;
}
