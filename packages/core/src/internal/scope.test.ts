import { describe, expect, it } from 'vitest';
import { Scope } from './scope.js';
import { step } from '../index.js';

describe('Scope', () => {
  it('aborts children even when an abort callback disposes them', () => {
    const parent = new Scope();
    const child = new Scope(parent);
    parent.onAbort(() => child.dispose());
    parent.abort('stop');
    expect(child.aborted).toBe(true);
    expect(child.reason).toBe('stop');
  });

  it('creates its AbortSignal lazily, already aborted when read after the abort', () => {
    const s = new Scope();
    expect(s.signalRead).toBe(false);
    s.abort('late');
    expect(s.signal.aborted).toBe(true);
    expect(s.signal.reason).toBe('late');
  });

  it('a caller abort reaches the signal of work inside a timeout', async () => {
    const ac = new AbortController();
    let innerAborted = false;
    const p = step('inner', (_: void, ctx) => new Promise<void>((_r, reject) => {
      ctx.signal.addEventListener('abort', () => {
        innerAborted = true;
        reject(ctx.signal.reason);
      });
    }))
      .timeout(10_000)
      .run(undefined, { signal: ac.signal })
      .catch(() => {});
    await Promise.resolve();
    ac.abort();
    await p;
    expect(innerAborted).toBe(true);
  });
});
