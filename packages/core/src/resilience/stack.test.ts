import { afterAll, describe, expect, it } from 'vitest';
import { filter, type Subscription } from 'rxjs';
import { step } from '../index.js';
import { CircuitBreaker } from '../circuit-breaker/index.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { isCircuitOpenError } from '../errors/circuit-open-error.js';

/** A flaky dependency we control: fails, hangs or answers. */
function dependency() {
  const state = { mode: 'ok' as 'ok' | 'fail' | 'hang' | 'flaky', calls: 0, aborted: 0 };
  const call = step('call-dependency', (q: string, ctx) => {
    state.calls++;
    const mode = state.mode === 'flaky' ? (state.calls % 2 === 1 ? 'fail' : 'ok') : state.mode;
    if (mode === 'fail') return Promise.reject(Object.assign(new Error('503 from dependency'), { status: 503 }));
    if (mode === 'hang') {
      return new Promise<string>((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          state.aborted++;
          reject(ctx.signal.reason);
        }, { once: true });
      });
    }
    return Promise.resolve(`answer:${q}`);
  });
  return { state, call };
}

describe('a realistic stack: step.retry().timeout().circuitBreaker().fallback()', () => {
  const subs: Subscription[] = [];
  afterAll(() => subs.forEach((s) => s.unsubscribe()));

  it('retries through a flaky dependency, times out hangs, opens the breaker, and falls back', async () => {
    const dep = dependency();
    const breaker = new CircuitBreaker({ name: 'dependency', threshold: 3, openMs: 60_000 });
    const cached = step('cached-answer', (q: string) => `cached:${q}`);
    const answer = dep.call
      .retry({ retries: 2, minDelay: 1, maxDelay: 5, jitter: 'none' })
      .timeout(200)
      .circuitBreaker(breaker)
      .fallback(cached);

    const seen: WeftEvent[] = [];
    subs.push(events.pipe(filter((e) => e.type.startsWith('retry.') || e.type.startsWith('circuit.') || e.type.startsWith('fallback.') || e.type === 'timeout.expired')).subscribe((e) => seen.push(e)));

    // Healthy: the primary answers.
    expect(await answer.run('q1', { workflow: 'stack' })).toBe('answer:q1');

    // Flaky: the first attempt fails, the retry succeeds, the breaker stays closed.
    dep.state.mode = 'flaky';
    dep.state.calls = 0;
    expect(await answer.run('q2', { workflow: 'stack' })).toBe('answer:q2');
    expect(dep.state.calls).toBe(2);
    expect(breaker.state).toBe('closed');

    // Hanging: the timeout aborts the attempt through its signal; the fallback serves.
    dep.state.mode = 'hang';
    const t0 = Date.now();
    expect(await answer.run('q3', { workflow: 'stack' })).toBe('cached:q3');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(dep.state.aborted).toBeGreaterThanOrEqual(1);

    // Down: failures open the breaker; then calls are shed without touching the dependency.
    dep.state.mode = 'fail';
    for (let i = 0; i < 3; i++) expect(await answer.run(`d${i}`, { workflow: 'stack' })).toBe(`cached:d${i}`);
    expect(breaker.state).toBe('open');
    const before = dep.state.calls;
    expect(await answer.run('shed', { workflow: 'stack' })).toBe('cached:shed');
    expect(dep.state.calls).toBe(before);

    const types = new Set(seen.map((e) => e.type));
    for (const t of ['retry.scheduled', 'retry.succeeded', 'timeout.expired', 'circuit.state_changed', 'circuit.rejected', 'fallback.served']) expect(types, t).toContain(t);
    const opened = seen.find((e) => e.type === 'circuit.state_changed' && e.to === 'open');
    expect(opened).toBeDefined();
  });

  it('without a fallback, an open breaker rejects with CircuitOpenError', async () => {
    const dep = dependency();
    dep.state.mode = 'fail';
    const guarded = dep.call.retry({ retries: 0 }).timeout(100).circuitBreaker({ threshold: 1, openMs: 60_000 });
    await expect(guarded.run('x')).rejects.toThrow('503');
    const error = await guarded.run('y').catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
  });
});
