import { describe, expect, it } from 'vitest';
import { ProviderState } from './provider-state.js';

function fates(state: ProviderState, count: number): boolean[] {
  return Array.from({ length: count }, () => state.draw().fails);
}

describe('ProviderState', () => {
  it('draws the same failures for the same seed and provider', () => {
    const a = fates(new ProviderState('alpha', { errorRate: 0.3 }, 42, undefined, undefined), 1_000);
    const b = fates(new ProviderState('alpha', { errorRate: 0.3 }, 42, undefined, undefined), 1_000);
    expect(a).toEqual(b);
    expect(fates(new ProviderState('alpha', { errorRate: 0.3 }, 43, undefined, undefined), 1_000)).not.toEqual(a);
    expect(fates(new ProviderState('beta', { errorRate: 0.3 }, 42, undefined, undefined), 1_000)).not.toEqual(a);
  });

  it.each([0.01, 0.1, 0.5, 0.9])('fails within 1.5 points of errorRate %s over 20,000 draws', (errorRate) => {
    const failed = fates(new ProviderState('alpha', { errorRate }, 7, undefined, undefined), 20_000).filter(Boolean).length / 20_000;
    expect(Math.abs(failed - errorRate)).toBeLessThan(0.015);
  });

  it('never fails at errorRate 0 and always fails at errorRate 1', () => {
    expect(fates(new ProviderState('alpha', {}, 1, undefined, undefined), 1_000).some(Boolean)).toBe(false);
    expect(fates(new ProviderState('alpha', { errorRate: 1 }, 1, undefined, undefined), 1_000).every(Boolean)).toBe(true);
  });

  it('keeps the failure sequence when jitter or the rate changes mid-run', () => {
    const plain = new ProviderState('alpha', { errorRate: 0.5 }, 9, undefined, undefined);
    const jittery = new ProviderState('alpha', { errorRate: 0.5 }, 9, undefined, undefined);
    const first = fates(plain, 50);
    jittery.configure({ jitterMs: 100 });
    expect(fates(jittery, 50)).toEqual(first);
  });

  it('draws jitter in [0, jitterMs)', () => {
    const state = new ProviderState('alpha', { jitterMs: 40 }, 3, undefined, undefined);
    const jitters = Array.from({ length: 2_000 }, () => state.draw().jitterMs);
    expect(Math.min(...jitters)).toBe(0);
    expect(Math.max(...jitters)).toBe(39);
    expect(jitters.every(Number.isInteger)).toBe(true);
  });

  it('numbers its chat completions from 1', () => {
    const state = new ProviderState('alpha', {}, 1, undefined, undefined);
    expect([state.draw().sequence, state.draw().sequence]).toEqual([1, 2]);
  });

  it('merges a patch, ignoring undefined values', () => {
    const state = new ProviderState('alpha', { latencyMs: 10 }, 1, undefined, undefined);
    expect(state.configure({ down: true, latencyMs: undefined })).toMatchObject({ latencyMs: 10, down: true });
    expect(Object.isFrozen(state.behaviour)).toBe(true);
  });

  it('checks bearer keys', () => {
    const state = new ProviderState('alpha', {}, 1, 'k-1', undefined);
    expect(state.authorise(undefined)).toBe('missing');
    expect(state.authorise('Token k-1')).toBe('missing');
    expect(state.authorise('Bearer k-2')).toBe('wrong');
    expect(state.authorise('Bearer k-1')).toBe('ok');
    expect(state.authorise('bearer k-1')).toBe('ok');
    expect(new ProviderState('open', {}, 1, undefined, undefined).authorise(undefined)).toBe('ok');
  });
});
