import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSpans } from '../../../testing/src/record-spans.js';
import { step } from '../index.js';
import { sequence } from '../composition/sequence.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { events } from '../events/index.js';
import type { WeftEvent } from '../events/event-types.js';
import { isTimeoutError } from '../errors/timeout-error.js';

const hang = (name: string) =>
  step(name, (_: void, ctx) => new Promise<string>((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })));

describe('review: events name the primitive that emitted them', () => {
  it('timeout.expired reaches slow.timeout(...).events when the timeout is nested in a sequence', async () => {
    const bounded = hang('slow-dep').timeout(5);
    const seen: WeftEvent[] = [];
    const sub = bounded.events.subscribe((e) => seen.push(e));
    const all: WeftEvent[] = [];
    const sub2 = events.subscribe((e) => all.push(e));
    try {
      await sequence(step('first', () => undefined), bounded).run(undefined, { workflow: 'wf-timeout' }).catch(() => undefined);
    } finally {
      sub.unsubscribe();
      sub2.unsubscribe();
    }
    const expired = all.find((e) => e.type === 'timeout.expired');
    expect(expired).toBeDefined();
    // The event says step "first>slow-dep" (the enclosing sequence), not "slow-dep".
    expect(expired!.step).toBe('slow-dep');
    expect(seen.some((e) => e.type === 'timeout.expired')).toBe(true);
  });

  it('hedge.started / hedge.won name the hedged primitive', async () => {
    const slowOk = step('hedged-dep', (_: void, ctx) => new Promise<string>((r) => {
      const t = setTimeout(() => r('ok'), 20);
      ctx.signal.addEventListener('abort', () => clearTimeout(t), { once: true });
    }));
    const all: WeftEvent[] = [];
    const sub = events.subscribe((e) => all.push(e));
    try {
      await sequence(step('first2', () => undefined), slowOk.hedge({ delayMs: 1 })).run(undefined, { workflow: 'wf-hedge' });
    } finally {
      sub.unsubscribe();
    }
    const won = all.find((e) => e.type === 'hedge.won');
    expect(won!.step).toBe('hedged-dep');
  });
});

describe('review: circuit breaker and timeouts', () => {
  it('counts calls cut off by a timeout as failures: dep.circuitBreaker(...).timeout(...) opens on a hanging dependency', async () => {
    const breaker = new CircuitBreaker({ name: 'hanging-dep', threshold: 2, openMs: 60_000 });
    const guarded = hang('hanging').circuitBreaker(breaker).timeout(5);
    for (let i = 0; i < 2; i++) {
      const e = await guarded.run(undefined).catch((x: unknown) => x);
      expect(isTimeoutError(e)).toBe(true);
    }
    expect(breaker.state).toBe('open');
    const shed = await guarded.run(undefined).catch((x: unknown) => x);
    expect((shed as Error).name).toBe('CircuitOpenError');
  });
});

describe('review: invalid run options', () => {
  let t: ReturnType<typeof recordSpans>;
  beforeAll(() => {
    t = recordSpans();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('rejects a non-AbortSignal `signal` with a TypeError naming it, and leaves no open run span', async () => {
    const s = step('sig', () => 1);
    let error: unknown;
    try {
      await s.run(undefined, { signal: {} as AbortSignal, workflow: 'bad-signal' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as Error).message)).toMatch(/`signal`/); 
    // Options are checked before the run starts, so no span is opened (and none is left open).
    expect(t.spans().map((x) => x.name)).not.toContain('bad-signal');
  });
});
