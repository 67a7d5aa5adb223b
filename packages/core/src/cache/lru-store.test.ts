import { afterEach, describe, expect, it, vi } from 'vitest';
import { LruStore } from './lru-store.js';

const entry = (v: unknown) => ({ v, e: false, t: Date.now(), x: Infinity });

describe('LruStore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('evicts the least recently used entry beyond max', () => {
    const store = new LruStore({ max: 2 });
    store.set('a', entry(1));
    store.set('b', entry(2));
    store.get('a');
    store.set('c', entry(3));
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')).toBeDefined();
    expect(store.size).toBe(2);
  });

  it('bounds the total size with maxSize and sizeCalculation on the cached value', () => {
    const store = new LruStore({ max: 100, maxSize: 10, sizeCalculation: (v) => (v as string).length });
    store.set('a', entry('xxxx'));
    store.set('b', entry('yyyy'));
    store.set('c', entry('zzzz'));
    expect(store.get('a')).toBeUndefined();
    expect(store.size).toBe(2);
  });

  it('sizes values by their JSON length by default when maxSize is set', () => {
    const store = new LruStore({ maxSize: 20 });
    store.set('big', entry('x'.repeat(30)));
    expect(store.get('big')).toBeUndefined();
    store.set('small', entry('x'));
    expect(store.get('small')).toBeDefined();
  });

  it('honours per-entry TTLs under fake timers without starting any timer', () => {
    vi.useFakeTimers();
    const store = new LruStore();
    store.set('k', entry(1), 1_000);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(999);
    expect(store.get('k')).toBeDefined();
    vi.advanceTimersByTime(2);
    expect(store.get('k')).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('deletes and clears', () => {
    const store = new LruStore();
    store.set('a', entry(1));
    store.set('b', entry(2));
    expect(store.delete('a')).toBe(true);
    expect(store.get('a')).toBeUndefined();
    store.clear();
    expect(store.size).toBe(0);
  });

  it('throws a TypeError naming the option', () => {
    expect(() => new LruStore({ max: 0 })).toThrow(/`max`/);
    expect(() => new LruStore({ max: 1.5 })).toThrow(TypeError);
    expect(() => new LruStore({ maxSize: -1 })).toThrow(/`maxSize`/);
    expect(() => new LruStore({ sizeCalculation: () => 1 })).toThrow(/`maxSize`/);
    expect(() => new LruStore({ maxSize: 10, sizeCalculation: 3 as never })).toThrow(/`sizeCalculation`/);
  });
});
