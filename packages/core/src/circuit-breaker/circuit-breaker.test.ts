import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import type { Subscription } from 'rxjs';
import { CircuitBreaker, circuitBreaker, type CircuitBreakerOptions, type CircuitBreakerSnapshot, type CircuitStateChange } from './circuit-breaker.js';
import { step } from '../index.js';
import { CircuitOpenError, isCircuitOpenError } from '../errors/circuit-open-error.js';
import { ValidationError } from '../errors/validation-error.js';
import { AbortedError, isAbortedError } from '../errors/aborted-error.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';

/** A manual clock and a dependency whose next outcomes the test scripts. */
function setup(options: CircuitBreakerOptions = {}) {
  const clock = { t: 1_000_000 };
  const breaker = new CircuitBreaker({ name: 'dep', now: () => clock.t, ...options });
  let calls = 0;
  let behaviour: (n: number) => string | Promise<string> = (n) => `ok${n}`;
  const dep = step('dep', (n: number) => {
    calls++;
    return behaviour(n);
  });
  const guarded = dep.circuitBreaker(breaker);
  return {
    clock,
    breaker,
    guarded,
    calls: () => calls,
    behave(fn: (n: number) => string | Promise<string>) {
      behaviour = fn;
    },
    ok: () => guarded.run(1),
    fail: (message = 'boom') => {
      const prev = behaviour;
      behaviour = () => {
        throw new Error(message);
      };
      return guarded.run(1).then(
        () => {
          throw new Error('expected a failure');
        },
        (e: unknown) => {
          behaviour = prev;
          return e as Error;
        },
      );
    },
  };
}

describe('circuitBreaker', () => {
  const subs: Subscription[] = [];
  afterEach(() => {
    subs.splice(0).forEach((s) => s.unsubscribe());
    vi.useRealTimers();
  });

  function record(): WeftEvent[] {
    const seen: WeftEvent[] = [];
    subs.push(events.subscribe((e) => e.type.startsWith('circuit.') && seen.push(e)));
    return seen;
  }

  describe('consecutive mode', () => {
    it('opens after `threshold` failures in a row and then rejects without calling', async () => {
      const s = setup({ threshold: 3 });
      await s.fail();
      await s.fail();
      expect(s.breaker.state).toBe('closed');
      await s.fail();
      expect(s.breaker.state).toBe('open');
      const calls = s.calls();
      const error = await s.ok().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(isCircuitOpenError(error)).toBe(true);
      expect(s.calls()).toBe(calls);
    });

    it('resets the count on a success', async () => {
      const s = setup({ threshold: 2 });
      await s.fail();
      await s.ok();
      await s.fail();
      expect(s.breaker.state).toBe('closed');
      await s.fail();
      expect(s.breaker.state).toBe('open');
    });

    it('says when it will admit a probe', async () => {
      const s = setup({ threshold: 1, openMs: 5_000 });
      await s.fail();
      s.clock.t += 1_500;
      const error = (await s.ok().catch((e: unknown) => e)) as CircuitOpenError;
      expect(error.retryAfterMs).toBe(3_500);
    });
  });

  describe('ratio mode', () => {
    const ratio = { mode: 'ratio', threshold: 0.5, windowMs: 10_000, buckets: 10, minThroughput: 4 } as const;

    it('does not open below the minimum throughput, however bad the ratio', async () => {
      const s = setup(ratio);
      await s.fail();
      await s.fail();
      await s.fail();
      expect(s.breaker.state).toBe('closed');
      await s.fail();
      expect(s.breaker.state).toBe('open');
    });

    it('opens when the failure ratio over the window reaches the threshold', async () => {
      const s = setup(ratio);
      for (let i = 0; i < 4; i++) await s.ok();
      await s.fail();
      await s.fail();
      await s.fail();
      expect(s.breaker.state).toBe('closed'); // 3 / 7
      await s.fail();
      expect(s.breaker.state).toBe('open'); // 4 / 8
    });

    it('forgets calls that slid out of the window', async () => {
      const s = setup(ratio);
      await s.fail();
      await s.fail();
      await s.fail();
      s.clock.t += 10_000; // those three are out of the window now
      await s.ok();
      await s.ok();
      await s.ok();
      await s.fail();
      expect(s.breaker.state).toBe('closed'); // 1 / 4
    });

    it('slides bucket by bucket', async () => {
      const history = async (lastAt: number) => {
        const s = setup(ratio);
        s.clock.t = 0;
        await s.fail(); // bucket 0
        await s.fail();
        s.clock.t = 5_000;
        await s.ok(); // bucket 5
        await s.ok();
        s.clock.t = lastAt;
        await s.fail();
        return s;
      };
      // At 9 999 ms bucket 0 is still in the window: 3 failures of 5.
      expect((await history(9_999)).breaker.state).toBe('open');
      // At 10 000 ms bucket 0 has slid out: 1 failure of 3, below the throughput.
      const s = await history(10_000);
      expect(s.breaker.state).toBe('closed');
      await s.ok();
      await s.fail();
      expect(s.breaker.state).toBe('closed'); // 2 / 5
      await s.fail();
      expect(s.breaker.state).toBe('open'); // 3 / 6
    });
  });

  it('counts a successful call slower than `slowCallMs` as a failure, but still returns its result', async () => {
    const s = setup({ threshold: 2, slowCallMs: 100 });
    s.behave(async (n) => {
      s.clock.t += 150;
      return `slow${n}`;
    });
    expect(await s.ok()).toBe('slow1');
    expect(s.breaker.state).toBe('closed');
    expect(await s.ok()).toBe('slow1');
    expect(s.breaker.state).toBe('open');
  });

  it('does not count a call that is exactly `slowCallMs` long', async () => {
    const s = setup({ threshold: 1, slowCallMs: 100 });
    s.behave(async () => {
      s.clock.t += 100;
      return 'ok';
    });
    await s.ok();
    await s.ok();
    expect(s.breaker.state).toBe('closed');
  });

  describe('half-open', () => {
    it('admits one probe after `openMs` and closes when it succeeds', async () => {
      const s = setup({ threshold: 1, openMs: 1_000 });
      await s.fail();
      s.clock.t += 999;
      expect(s.breaker.state).toBe('open');
      s.clock.t += 1;
      expect(s.breaker.state).toBe('half-open');
      let release!: () => void;
      s.behave(() => new Promise((r) => (release = () => r('probe'))));
      const probe = s.ok();
      const rejected = await s.ok().catch((e: unknown) => e);
      expect(isCircuitOpenError(rejected)).toBe(true);
      // Refused while the probe runs: it says so, and when a new probe is admitted if this one hangs.
      expect(rejected).toMatchObject({ state: 'half-open', probes: { inFlight: 1, max: 1 }, retryAfterMs: 1_000 });
      release();
      expect(await probe).toBe('probe');
      expect(s.breaker.state).toBe('closed');
    });

    it('re-opens when the probe fails', async () => {
      const s = setup({ threshold: 1, openMs: 1_000 });
      await s.fail();
      s.clock.t += 1_000;
      await s.fail('still down');
      expect(s.breaker.state).toBe('open');
      expect(((await s.ok().catch((e: unknown) => e)) as CircuitOpenError).retryAfterMs).toBe(1_000);
    });

    it('admits up to `halfOpenProbes` probes at once', async () => {
      const s = setup({ threshold: 1, openMs: 1_000, halfOpenProbes: 3 });
      await s.fail();
      s.clock.t += 1_000;
      const releases: Array<() => void> = [];
      s.behave(() => new Promise((r) => releases.push(() => r('probe'))));
      const probes = [s.ok(), s.ok(), s.ok()];
      const fourth = await s.ok().catch((e: unknown) => e);
      expect(isCircuitOpenError(fourth)).toBe(true);
      expect(releases).toHaveLength(3);
      releases.forEach((r) => r());
      expect(await Promise.all(probes)).toEqual(['probe', 'probe', 'probe']);
      expect(s.breaker.state).toBe('closed');
    });

    it('frees the slot of a probe whose error does not count', async () => {
      const s = setup({ threshold: 1, openMs: 1_000, failureOn: (e) => e.message !== 'ignored' });
      await s.fail();
      s.clock.t += 1_000;
      await s.fail('ignored');
      expect(s.breaker.state).toBe('half-open');
      expect(await s.ok()).toBe('ok1');
      expect(s.breaker.state).toBe('closed');
    });

    it('ignores a late probe from an earlier half-open episode', async () => {
      const s = setup({ threshold: 1, openMs: 1_000, halfOpenProbes: 2 });
      await s.fail();
      s.clock.t += 1_000;
      const settles: Array<(ok: boolean) => void> = [];
      s.behave(() => new Promise((resolve, reject) => settles.push((ok) => (ok ? resolve('probe') : reject(new Error('down'))))));
      const a = s.ok().catch((e: unknown) => e);
      const b = s.ok();
      settles[0]!(false); // probe A fails: re-open
      await a;
      expect(s.breaker.state).toBe('open');
      s.clock.t += 1_000;
      const c = s.ok(); // a probe of the second episode
      settles[1]!(true); // probe B, of the first episode, succeeds late
      expect(await b).toBe('probe');
      expect(s.breaker.state).toBe('half-open');
      settles[2]!(true);
      expect(await c).toBe('probe');
      expect(s.breaker.state).toBe('closed');
    });

    it('does not let a call admitted while closed act as a probe', async () => {
      const s = setup({ threshold: 1, openMs: 1_000 });
      let release!: () => void;
      s.behave(() => new Promise((r) => (release = () => r('late'))));
      const late = s.ok(); // admitted while closed
      s.behave((n) => `ok${n}`);
      await s.fail();
      s.clock.t += 1_000;
      expect(s.breaker.state).toBe('half-open');
      release();
      expect(await late).toBe('late');
      expect(s.breaker.state).toBe('half-open');
    });
  });

  it('backs off the open duration on each re-open, up to maxMs, and resets it on close', async () => {
    const s = setup({ threshold: 1, openMs: 1_000, backoff: { factor: 2, maxMs: 3_000 } });
    const openFor = async (): Promise<number | undefined> => ((await s.ok().catch((e: unknown) => e)) as CircuitOpenError).retryAfterMs;
    await s.fail();
    expect(await openFor()).toBe(1_000);
    s.clock.t += 1_000;
    await s.fail();
    expect(await openFor()).toBe(2_000);
    s.clock.t += 2_000;
    await s.fail();
    expect(await openFor()).toBe(3_000);
    s.clock.t += 3_000;
    await s.fail();
    expect(await openFor()).toBe(3_000);
    s.clock.t += 3_000;
    await s.ok(); // the probe closes it
    expect(s.breaker.state).toBe('closed');
    await s.fail();
    expect(await openFor()).toBe(1_000);
  });

  it('keeps the open duration constant without backoff', async () => {
    const s = setup({ threshold: 1, openMs: 500 });
    for (let i = 0; i < 3; i++) {
      await s.fail();
      expect(((await s.ok().catch((e: unknown) => e)) as CircuitOpenError).retryAfterMs).toBe(500);
      s.clock.t += 500;
    }
  });

  describe('isolate and reset', () => {
    it('isolates until the handle is released', async () => {
      const s = setup();
      const handle = s.breaker.isolate();
      expect(s.breaker.state).toBe('isolated');
      s.clock.t += 1e9;
      const error = (await s.ok().catch((e: unknown) => e)) as CircuitOpenError;
      expect(isCircuitOpenError(error)).toBe(true);
      expect(error.retryAfterMs).toBeUndefined();
      expect(s.calls()).toBe(0);
      handle.release();
      expect(s.breaker.state).toBe('closed');
      expect(await s.ok()).toBe('ok1');
    });

    it('stays isolated until every handle is released, and a handle releases only once', () => {
      const { breaker } = setup();
      const a = breaker.isolate();
      const b = breaker.isolate();
      a.release();
      a.release();
      expect(breaker.state).toBe('isolated');
      b.release();
      expect(breaker.state).toBe('closed');
    });

    it('reset() closes an isolated or open breaker and forgets failures and backoff', async () => {
      const s = setup({ threshold: 2, openMs: 1_000, backoff: { factor: 10 } });
      const handle = s.breaker.isolate();
      s.breaker.reset();
      expect(s.breaker.state).toBe('closed');
      handle.release(); // stale: does nothing
      expect(s.breaker.state).toBe('closed');
      const again = s.breaker.isolate();
      handle.release();
      expect(s.breaker.state).toBe('isolated');
      again.release();

      await s.fail();
      await s.fail();
      s.clock.t += 1_000;
      await s.fail(); // re-open: would be 10 s
      s.breaker.reset();
      await s.fail();
      expect(s.breaker.state).toBe('closed'); // one failure of two
      await s.fail();
      expect(((await s.ok().catch((e: unknown) => e)) as CircuitOpenError).retryAfterMs).toBe(1_000);
    });
  });

  describe('toJSON and restore', () => {
    it('round-trips an open breaker through JSON, backoff included', async () => {
      const s = setup({ threshold: 1, openMs: 1_000, backoff: { factor: 2 } });
      await s.fail();
      s.clock.t += 1_000;
      await s.fail(); // second open: 2 s
      const json = JSON.parse(JSON.stringify(s.breaker)) as ReturnType<CircuitBreaker['toJSON']>;
      expect(json).toMatchObject({ version: 1, name: 'dep', state: 'open', openUntil: s.clock.t + 2_000, opens: 2 });

      const copy = CircuitBreaker.fromJSON(json, { now: () => s.clock.t, threshold: 1, openMs: 1_000, backoff: { factor: 2 } });
      expect(copy.name).toBe('dep');
      expect(copy.state).toBe('open');
      expect(copy.toJSON()).toEqual(s.breaker.toJSON());
      s.clock.t += 2_000;
      expect(copy.state).toBe('half-open');
      const guarded = step('dep2', () => {
        throw new Error('down');
      }).circuitBreaker(copy);
      await guarded.run(undefined).catch(() => {});
      // The restored backoff continues: third open lasts 4 s.
      expect(copy.toJSON().openUntil).toBe(s.clock.t + 4_000);
    });

    it('round-trips the sliding window of ratio mode', async () => {
      const options = { mode: 'ratio', threshold: 0.5, minThroughput: 4 } as const;
      const s = setup(options);
      await s.ok();
      await s.fail();
      await s.ok();
      const copy = CircuitBreaker.fromJSON(JSON.parse(JSON.stringify(s.breaker)) as CircuitBreakerSnapshot, { ...options, now: () => s.clock.t });
      expect(copy.toJSON()).toEqual(s.breaker.toJSON());
      const guarded = step('other', () => {
        throw new Error('down');
      }).circuitBreaker(copy);
      await guarded.run(undefined).catch(() => {});
      expect(copy.state).toBe('open'); // 2 / 4, counting the restored calls
    });

    it('restores isolation, which then holds until reset()', () => {
      const { breaker } = setup();
      breaker.isolate();
      const copy = CircuitBreaker.fromJSON(breaker.toJSON());
      expect(copy.state).toBe('isolated');
      copy.reset();
      expect(copy.state).toBe('closed');
    });

    it('restore() replaces the state and reports the transition', async () => {
      const a = setup({ threshold: 1 });
      const b = setup({ threshold: 1 });
      const changes: CircuitStateChange[] = [];
      b.breaker.onStateChange((c) => changes.push(c));
      await a.fail();
      b.breaker.restore(a.breaker.toJSON());
      expect(b.breaker.state).toBe('open');
      expect(changes).toEqual([{ breaker: 'dep', from: 'closed', to: 'open' }]);
      b.breaker.restore(a.breaker.toJSON());
      expect(changes).toHaveLength(1);
    });

    it('rejects a malformed snapshot with a TypeError naming the field', () => {
      const { breaker } = setup();
      const good = breaker.toJSON();
      expect(() => breaker.restore({ ...good, version: 2 } as never)).toThrow(/`snapshot.version`/);
      expect(() => breaker.restore({ ...good, state: 'ajar' } as never)).toThrow(/`snapshot.state`/);
      expect(() => breaker.restore({ ...good, state: 'open' })).toThrow(/`snapshot.openUntil`/);
      expect(() => breaker.restore({ ...good, failures: -1 })).toThrow(/`snapshot.failures`/);
      expect(() => CircuitBreaker.fromJSON(null as never)).toThrow(TypeError);
    });
  });

  describe('which errors count', () => {
    it('counts only errors that pass `failureOn`', async () => {
      const s = setup({ threshold: 2, failureOn: (e) => e.message.startsWith('5') });
      await s.fail('404');
      await s.fail('404');
      await s.fail('404');
      expect(s.breaker.state).toBe('closed');
      await s.fail('503');
      await s.fail('503');
      expect(s.breaker.state).toBe('open');
    });

    it('does not count ValidationErrors or aborts by default', async () => {
      const s = setup({ threshold: 1 });
      s.behave(() => {
        throw new ValidationError('dep', 'input', [{ path: [], message: 'bad' }]);
      });
      await s.ok().catch(() => {});
      s.behave(() => {
        throw new AbortedError('gone');
      });
      await s.ok().catch(() => {});
      expect(s.breaker.state).toBe('closed');
    });

    it('does not count a failure caused by the caller aborting', async () => {
      const s = setup({ threshold: 1, failureOn: () => true });
      const controller = new AbortController();
      s.behave(() => new Promise((_r, reject) => controller.signal.addEventListener('abort', () => reject(new Error('interrupted')))));
      const p = s.guarded.run(1, { signal: controller.signal }).catch((e: unknown) => e);
      controller.abort();
      expect(isAbortedError(await p)).toBe(true);
      await new Promise((r) => setImmediate(r));
      expect(s.breaker.state).toBe('closed');
    });

    it('counts a failure when `failureOn` itself throws', async () => {
      const s = setup({
        threshold: 1,
        failureOn: () => {
          throw new Error('bad predicate');
        },
      });
      const error = await s.fail('original');
      expect(error.message).toBe('original');
      expect(s.breaker.state).toBe('open');
    });
  });

  it('reports state changes and rejections as events', async () => {
    const seen = record();
    const s = setup({ threshold: 1, openMs: 1_000 });
    await s.fail();
    await s.ok().catch(() => {});
    s.clock.t += 1_000;
    await s.ok();
    const handle = s.breaker.isolate();
    handle.release();
    expect(seen.map((e) => (e.type === 'circuit.state_changed' ? `${e.from}>${e.to}` : `rejected:${e.type === 'circuit.rejected' && e.state}`))).toEqual([
      'closed>open',
      'rejected:open',
      'open>half-open',
      'half-open>closed',
      'closed>isolated',
      'isolated>closed',
    ]);
    expect(seen.every((e) => e.primitive === 'circuit-breaker' && 'breaker' in e && e.breaker === 'dep')).toBe(true);
    const rejected = seen[1]!;
    expect(rejected.type === 'circuit.rejected' && rejected.retryAfterMs).toBe(1_000);
    expect(seen[0]!.correlationId).not.toBe('');
    expect(seen[4]!.correlationId).toBe(''); // isolate() happens outside any run
  });

  it('reports transitions to onStateChange subscribers until they unsubscribe', async () => {
    const s = setup({ threshold: 1 });
    const changes: string[] = [];
    const off = s.breaker.onStateChange((c) => changes.push(`${c.from}>${c.to}`));
    s.breaker.onStateChange(() => {
      throw new Error('a bad listener');
    });
    await s.fail();
    off();
    s.breaker.reset();
    expect(changes).toEqual(['closed>open']);
  });

  it('shares one breaker between primitives', async () => {
    const clock = { t: 0 };
    const shared = new CircuitBreaker({ name: 'payments', threshold: 2, now: () => clock.t });
    const charge = step('charge', (): string => {
      throw new Error('down');
    }).circuitBreaker(shared);
    const refund = circuitBreaker(step('refund', () => 'refunded'), shared);
    await charge.run(undefined).catch(() => {});
    await charge.run(undefined).catch(() => {});
    const error = await refund.run(undefined).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect((error as Error).message).toContain('payments');
  });

  it('names its own breaker after the primitive and keeps the primitive name', async () => {
    const seen = record();
    const guarded = step('search', (): string => {
      throw new Error('down');
    }).circuitBreaker({ threshold: 1 });
    expect(guarded.name).toBe('search');
    expect(guarded.kind).toBe('circuit-breaker');
    await guarded.run(undefined).catch(() => {});
    const error = await guarded.run(undefined).catch((e: unknown) => e);
    expect((error as Error).message).toContain('"search"');
    expect(seen[0]!.type === 'circuit.state_changed' && seen[0].breaker).toBe('search');
  });

  it('uses no timers and works with fake timers through Date.now()', async () => {
    vi.useFakeTimers();
    const breaker = new CircuitBreaker({ threshold: 1, openMs: 1_000 });
    const guarded = step('dep', (): string => {
      throw new Error('down');
    }).circuitBreaker(breaker);
    await guarded.run(undefined).catch(() => {});
    expect(breaker.state).toBe('open');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(breaker.state).toBe('half-open');
  });

  it('wraps a synchronous throw and a thrown non-Error', async () => {
    const s = setup({ threshold: 2 });
    s.behave(() => {
      throw 'text';
    });
    const error = await s.ok().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(s.breaker.toJSON().failures).toBe(1);
  });

  it('throws a TypeError naming the option', () => {
    const bad: Array<[CircuitBreakerOptions, RegExp]> = [
      [{ name: 'has space' }, /`name`/],
      [{ mode: 'percent' as never }, /`mode`/],
      [{ threshold: 0 }, /`threshold`/],
      [{ threshold: 1.5 }, /`threshold`/],
      [{ mode: 'ratio', threshold: 1.5 }, /`threshold`/],
      [{ mode: 'ratio', threshold: 0 }, /`threshold`/],
      [{ windowMs: 0 }, /`windowMs`/],
      [{ buckets: 2.5 }, /`buckets`/],
      [{ minThroughput: 0 }, /`minThroughput`/],
      [{ slowCallMs: -1 }, /`slowCallMs`/],
      [{ openMs: -5 }, /`openMs`/],
      [{ openMs: Infinity }, /`openMs`/],
      [{ backoff: 2 as never }, /`backoff`/],
      [{ backoff: { factor: 0.5 } }, /`backoff.factor`/],
      [{ openMs: 10_000, backoff: { maxMs: 5_000 } }, /`backoff.maxMs`/],
      [{ halfOpenProbes: 0 }, /`halfOpenProbes`/],
      [{ failureOn: true as never }, /`failureOn`/],
      [{ now: 5 as never }, /`now`/],
    ];
    for (const [options, message] of bad) {
      expect(() => new CircuitBreaker(options), JSON.stringify(options)).toThrow(message);
      expect(() => new CircuitBreaker(options)).toThrow(TypeError);
    }
    expect(() => circuitBreaker(step('x', () => 1), 'fast' as never)).toThrow(/`options`/);
    expect(() => circuitBreaker({} as never)).toThrow(/`primitive`/);
  });

  it('never admits more probes than `halfOpenProbes` while half-open, under any interleaving of calls and completions', async () => {
    type Op = { op: 'call' } | { op: 'settle'; pick: number; outcome: 'ok' | 'fail' | 'ignored' } | { op: 'tick'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constant<Op>({ op: 'call' }),
      fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), outcome: fc.constantFrom('ok' as const, 'fail' as const, 'ignored' as const) }),
      fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 150 }) }),
    );
    const flush = () => new Promise((r) => setImmediate(r));

    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.array(op, { maxLength: 60 }), async (limit, threshold, ops) => {
        let t = 0;
        const breaker = new CircuitBreaker({ name: 'prop', threshold, openMs: 100, halfOpenProbes: limit, now: () => t, failureOn: (e) => e.message !== 'ignored' });
        let episode = 0;
        breaker.onStateChange((c) => {
          if (c.to === 'half-open') episode++;
        });
        const inFlight = new Map<number, number>(); // probes of each half-open episode still running
        const pending: Array<{ settle: (outcome: 'ok' | 'fail' | 'ignored') => void; episode: number | undefined }> = [];
        const dep = step('prop-dep', () => {
          // Called synchronously on admission: the breaker's state is the admitting state.
          const probeOf = breaker.state === 'half-open' ? episode : undefined;
          if (probeOf !== undefined) {
            const n = (inFlight.get(probeOf) ?? 0) + 1;
            inFlight.set(probeOf, n);
            expect(n).toBeLessThanOrEqual(limit);
          }
          return new Promise<string>((resolve, reject) => {
            pending.push({
              episode: probeOf,
              settle: (outcome) => (outcome === 'ok' ? resolve('ok') : reject(new Error(outcome))),
            });
          });
        });
        const guarded = dep.circuitBreaker(breaker);
        const runs: Array<Promise<unknown>> = [];
        const settle = async (index: number, outcome: 'ok' | 'fail' | 'ignored') => {
          const [item] = pending.splice(index, 1);
          if (!item) return;
          if (item.episode !== undefined) inFlight.set(item.episode, inFlight.get(item.episode)! - 1);
          item.settle(outcome);
          await flush();
        };
        for (const o of ops) {
          if (o.op === 'call') runs.push(guarded.run(undefined).catch((e: unknown) => e));
          else if (o.op === 'tick') t += o.ms;
          else if (pending.length > 0) await settle(o.pick % pending.length, o.outcome);
        }
        while (pending.length > 0) await settle(0, 'ok');
        const outcomes = await Promise.all(runs);
        // Every call either ran or was rejected with CircuitOpenError.
        expect(outcomes.every((x) => x === 'ok' || (x instanceof Error && (x.message === 'fail' || x.message === 'ignored' || isCircuitOpenError(x))))).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  describe('recovery controls (issue 13)', () => {
    it('abandons a probe that never settles once probeTimeoutMs has passed, and admits a new one', async () => {
      const s = setup({ threshold: 1, openMs: 1_000, probeTimeoutMs: 5_000 });
      await s.fail();
      s.clock.t += 1_000;
      s.behave(() => new Promise<string>(() => {})); // the hung probe: no timeout inside the breaker
      void s.ok();
      await Promise.resolve();
      s.behave((n) => `ok${n}`);
      s.clock.t += 4_999;
      await expect(s.ok()).rejects.toMatchObject({ state: 'half-open', retryAfterMs: 1 });
      s.clock.t += 1;
      await expect(s.ok()).resolves.toBe('ok1'); // a fresh probe, and it closes the breaker
      expect(s.breaker.state).toBe('closed');
    });

    it('closes only after successThreshold probes succeed, and re-opens on a failure between them', async () => {
      const s = setup({ threshold: 1, openMs: 1_000, successThreshold: 3 });
      await s.fail();
      s.clock.t += 1_000;
      await s.ok();
      await s.ok();
      expect(s.breaker.state).toBe('half-open');
      await s.fail('relapse');
      expect(s.breaker.state).toBe('open');
      s.clock.t += 2_000;
      for (let i = 0; i < 3; i++) await s.ok();
      expect(s.breaker.state).toBe('closed');
    });

    it('judges the last windowSize calls in a count-based window', async () => {
      const s = setup({ mode: 'ratio', threshold: 0.5, windowSize: 4, minThroughput: 4 });
      await s.ok();
      await s.fail();
      await s.ok();
      await s.ok(); // 1 of 4 failed
      await s.fail(); // window: fail, ok, ok, fail -> 2 of 4
      expect(s.breaker.state).toBe('open');
      expect(s.breaker.toJSON().recent).toEqual([]); // opening clears the window
    });

    it('counts a result as a failure with failureIf, and says so in the error and onBreak', async () => {
      const breaks: unknown[] = [];
      const dep = step('degraded', (n: number) => ({ status: n }));
      const guarded = dep.circuitBreaker({ threshold: 2, failureIf: (r) => r.status >= 500, onBreak: (info) => breaks.push(info), clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} } });
      await expect(guarded.run(503)).resolves.toEqual({ status: 503 }); // the caller still gets the result
      await guarded.run(200); // resets the run of failures
      await guarded.run(503);
      await guarded.run(502);
      const refused = await guarded.run(200).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CircuitOpenError);
      expect(refused).toMatchObject({ breaker: 'degraded', state: 'open', failures: 2, retryAfterMs: 10_000 });
      expect((refused as Error).message).toBe('Circuit "degraded" is open after 2 failures; a probe is admitted in 10000 ms');
      expect(((refused as Error).cause as Error).message).toMatch(/failureIf/);
      expect(breaks).toEqual([expect.objectContaining({ breaker: 'degraded', failures: 2, openMs: 10_000 })]);
    });

    it('puts the last failure on the refusal as cause, and calls onRejected, onHalfOpen and onReset', async () => {
      const seen: string[] = [];
      const s = setup({
        threshold: 1,
        openMs: 100,
        onRejected: (e) => seen.push(`rejected ${e.state}`),
        onHalfOpen: () => seen.push('half-open'),
        onReset: () => seen.push('reset'),
      });
      await s.fail('db down');
      const refused = (await s.ok().catch((e: unknown) => e)) as CircuitOpenError;
      expect((refused.cause as Error).message).toBe('db down');
      s.clock.t += 100;
      await s.ok();
      expect(seen).toEqual(['rejected open', 'half-open', 'reset']);
    });

    it('describes an isolated breaker', async () => {
      const s = setup();
      s.breaker.isolate();
      await expect(s.ok()).rejects.toMatchObject({ state: 'isolated', retryAfterMs: undefined, message: 'Circuit "dep" is isolated (held open by hand)' });
    });

    it('rejects misspelt options with a suggestion', () => {
      expect(() => new CircuitBreaker({ treshold: 3 } as never)).toThrow('Unknown circuitBreaker option `treshold` (did you mean `threshold`?)');
      expect(() => new CircuitBreaker({ windowSize: 10 })).toThrow(/`windowSize`/);
      expect(() => new CircuitBreaker({ now: () => 0, clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} } })).toThrow(/`now`/);
    });
  });
});
