import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonSerializer } from './serializer.js';

const roundTrip = (value: unknown): unknown => jsonSerializer.deserialize(jsonSerializer.serialize(value));

describe('jsonSerializer', () => {
  it('round-trips Date, bigint, Map, Set, NaN and the infinities, nested', () => {
    const value = {
      at: new Date('2024-05-01T10:00:00.000Z'),
      invalid: new Date(NaN),
      big: 12345678901234567890n,
      map: new Map<unknown, unknown>([['k', new Date(0)], [1, new Set([1n])]]),
      set: new Set(['a', 'b']),
      nums: [NaN, Infinity, -Infinity, 1.5],
    };
    const back = roundTrip(value) as typeof value;
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    expect(Number.isNaN(back.invalid.getTime())).toBe(true);
    expect(back.big).toBe(12345678901234567890n);
    expect(back.map).toEqual(new Map<unknown, unknown>([['k', new Date(0)], [1, new Set([1n])]]));
    expect(back.set).toEqual(new Set(['a', 'b']));
    expect(back.nums).toEqual([NaN, Infinity, -Infinity, 1.5]);
  });

  it('round-trips undefined at the top level and in arrays, and drops undefined properties like JSON', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip([1, undefined, 3])).toEqual([1, undefined, 3]);
    const obj = roundTrip({ a: 1, b: undefined }) as Record<string, unknown>;
    expect(obj).toEqual({ a: 1 });
    expect('b' in obj).toBe(false);
    expect(roundTrip(null)).toBeNull();
  });

  it('escapes user objects that look like its tags', () => {
    const tricky = { $w: 'D', v: '2024-01-01T00:00:00.000Z', nested: { $w: 'B', v: '1' } };
    expect(roundTrip(tricky)).toEqual(tricky);
  });

  it('turns class instances into plain objects and throws on cycles', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    expect(roundTrip(new Point(1))).toEqual({ x: 1 });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => jsonSerializer.serialize(cyclic)).toThrow(TypeError);
  });

  it('round-trips any JSON value unchanged (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(roundTrip(value)).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });
});
