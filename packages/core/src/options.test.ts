import { describe, expect, it } from 'vitest';
import { boolean, fail, knownOptions, number, oneOf, optionalBoolean, optionalFunction, optionalNumber, optionsObject, primitiveName } from './options.js';

describe('@weft/core/options', () => {
  it('throws a TypeError naming the option, what it expected and what it got', () => {
    expect(() => fail('retries', 'a non-negative integer', -1)).toThrow(new TypeError('Expected `retries` to be a non-negative integer, got -1'));
    expect(() => fail('key', 'a string', () => 1)).toThrow('got a function');
    expect(() => fail('name', 'a name', 'x y')).toThrow('got "x y"');
  });

  it('returns the default for an undefined number and checks range, integrality and finiteness', () => {
    expect(number('ttlMs', undefined, 5, { min: 1 })).toBe(5);
    expect(number('ttlMs', 10, 5, { min: 1, integer: true })).toBe(10);
    expect(() => number('ttlMs', 0, 5, { min: 1, max: 100, integer: true })).toThrow('Expected `ttlMs` to be an integer >= 1 <= 100, got 0');
    expect(() => number('ttlMs', 1.5, 5, { integer: true })).toThrow('to be an integer, got 1.5');
    expect(() => number('ttlMs', Number.NaN, 5)).toThrow('to be a number, got NaN');
    expect(() => number('ttlMs', Infinity, 5, { min: 1 })).toThrow('to be a finite number >= 1');
    expect(number('ttlMs', Infinity, 5, { finite: false })).toBe(Infinity);
  });

  it('checks booleans, with and without a default', () => {
    expect(boolean('span', undefined, true)).toBe(true);
    expect(boolean('span', false, true)).toBe(false);
    expect(optionalBoolean('span', undefined)).toBeUndefined();
    expect(() => boolean('span', 'yes', true)).toThrow('Expected `span` to be a boolean, got "yes"');
  });

  it('checks functions, enumerations, option objects and names', () => {
    const f = (): void => undefined;
    expect(optionalFunction('onError', f)).toBe(f);
    expect(() => optionalFunction('onError', 1)).toThrow('Expected `onError` to be a function, got 1');
    expect(oneOf('mode', undefined, ['a', 'b'], 'a')).toBe('a');
    expect(() => oneOf('mode', 'c', ['a', 'b'], 'a')).toThrow('Expected `mode` to be one of "a", "b", got "c"');
    expect(optionsObject('options', undefined)).toEqual({});
    expect(() => optionsObject('options', [])).toThrow('Expected `options` to be an options object, got []');
    expect(primitiveName('name', 'fetch-user')).toBe('fetch-user');
    expect(() => primitiveName('name', '1abc')).toThrow(/Expected `name` to be a name of 1-100 characters/);
  });

  it('rejects options the object does not know', () => {
    expect(() => knownOptions('RedisCacheStore', { maxTtlMs: 1 }, ['maxTtlMs'])).not.toThrow();
    expect(() => knownOptions('RedisCacheStore', { maxTTL: 1 }, ['maxTtlMs'])).toThrow(new TypeError('Unknown RedisCacheStore option `maxTTL` (did you mean `maxTtlMs`?); known options: maxTtlMs'));
    expect(() => knownOptions('bulkhead', { maxQeue: 1 }, ['maxConcurrent', 'maxQueue'])).toThrow('Unknown bulkhead option `maxQeue` (did you mean `maxQueue`?); known options: maxConcurrent, maxQueue');
    expect(() => knownOptions('bulkhead', { colour: 1 }, ['maxConcurrent', 'maxQueue'])).toThrow('Unknown bulkhead option `colour`; known options: maxConcurrent, maxQueue');
    expect(() => optionsObject('options', { maxQeue: 1 }, ['maxQueue'], 'bulkhead')).toThrow(/^Unknown bulkhead option `maxQeue`/);
  });

  it('prints NaN, Infinity and bigints as themselves, not as null', () => {
    expect(() => optionalNumber('timeout', Number.NaN)).toThrow('Expected `timeout` to be a number, got NaN');
    expect(() => optionalNumber('ms', Infinity)).toThrow('got Infinity');
    expect(() => optionalNumber('ms', -Infinity, { finite: false, min: 0 })).toThrow('got -Infinity');
    expect(() => fail('limits', 'finite numbers', { a: Number.NaN, b: [Infinity], c: 1n })).toThrow('got {"a":"NaN","b":["Infinity"],"c":"1n"}');
  });
});
