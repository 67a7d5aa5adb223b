import { describe, expect, it } from 'vitest';
import * as weft from '../index.js';

// A second, independent copy of @weft/core, as when two versions are installed (a library built on
// Weft and the app that uses it): the compiled package in packages/core/dist (run `npm run build` first)
// is a separate module graph from these sources.
const loadCopy = async (): Promise<typeof weft> => (await import(/* @vite-ignore */ new URL('../../dist/index.js', import.meta.url).href)) as typeof weft;

describe('review: two installed copies', () => {
  it('sanity: the second copy is a different module instance, and branded error guards work across it', async () => {
    const other = await loadCopy();
    expect(other.Primitive).not.toBe(weft.Primitive);
    expect(weft.isTimeoutError(new other.TimeoutError(5))).toBe(true);
  });

  it('composes a primitive made by the other copy (sequence/parallel/fallback accept it)', async () => {
    const other = await loadCopy();
    const fromLibrary = other.step('lib-step', (n: number) => n + 1);
    const mine = weft.step('app-step', (n: number) => n * 2);
    let flow: weft.Primitive<number, number> | undefined;
    let error: unknown;
    try {
      flow = weft.sequence(fromLibrary, mine);
    } catch (e) {
      error = e;
    }
    expect(error).toBeUndefined();
    expect(await flow!.run(1)).toBe(4);
  });

  it('a Bulkhead from the other copy is shared, not silently replaced by a fresh one', async () => {
    const other = await loadCopy();
    const shared = new other.Bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = weft.step('bh-a', () => gate).bulkhead(shared);
    const b = weft.step('bh-b', () => 'b').bulkhead(shared);
    const first = a.run(undefined);
    const second = await b.run(undefined).then(() => 'ran', (e: unknown) => (weft.isBulkheadRejectedError(e) ? 'rejected' : String(e)));
    release();
    await first;
    expect(second).toBe('rejected');
  });
});
