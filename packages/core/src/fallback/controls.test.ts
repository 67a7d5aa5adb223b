import { describe, expect, it } from 'vitest';
import { isFallbackError } from '../errors/fallback-error.js';
import { step } from '../index.js';
import { fallback, type FallbackInfo } from './fallback.js';

describe('fallback: controls (issue 13)', () => {
  it('falls back on a degraded result with fallbackIf, telling onFallback why', async () => {
    const seen: FallbackInfo[] = [];
    const primary = step('search', () => ({ status: 200, hits: [] as string[], degraded: true }));
    const mirror = step('mirror', () => ({ status: 200, hits: ['a'], degraded: false }));
    const served = await primary.fallback(mirror, { fallbackIf: (r) => r.degraded, onFallback: (i) => seen.push(i) }).run(undefined);
    expect(served.hits).toEqual(['a']);
    expect(seen).toEqual([expect.objectContaining({ step: 'search', index: 1, alternative: 'mirror', error: expect.objectContaining({ message: 'The result counted as a failure (fallbackIf)' }) as unknown })]);
  });

  it('keeps a good primary result, and rejects with a FallbackError when every result is degraded', async () => {
    const good = step('search', () => ({ degraded: false }));
    await expect(fallback(good, () => ({ degraded: false }), { fallbackIf: (r) => r.degraded }).run(undefined)).resolves.toEqual({ degraded: false });
    const bad = step('search', () => ({ degraded: true }));
    const error = await fallback(bad, () => ({ degraded: true }), { fallbackIf: (r) => r.degraded }).run(undefined).catch((e: unknown) => e);
    expect(isFallbackError(error)).toBe(true);
  });

  it('rejects misspelt options with a suggestion', () => {
    const s = step('x', () => 1);
    expect(() => fallback(s, () => 2, { wen: () => true } as never)).toThrow('Unknown fallback option `wen` (did you mean `when`?)');
  });
});
