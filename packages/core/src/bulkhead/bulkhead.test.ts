import { ROOT_CONTEXT } from '@opentelemetry/api';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parallel } from '../composition/parallel.js';
import { AbortedError, isAbortedError } from '../errors/aborted-error.js';
import { BulkheadRejectedError, isBulkheadRejectedError } from '../errors/bulkhead-rejected-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { Ctx, RunState } from '../internal/ctx.js';
import { Scope } from '../internal/scope.js';
import { definePrimitive } from '../primitive.js';
import { step } from '../index.js';
import { useClock } from '../clock/clock.js';
import { manualClock } from '../test-support/manual-clock.js';
import { timeout } from '../timeout/timeout.js';
import { Bulkhead, bulkhead } from './index.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A step whose calls wait until the test releases them, in call order. */
function gated(name = 'work') {
  const calls: Array<{ input: number; gate: Deferred<number> }> = [];
  const primitive = step(name, (input: number) => {
    const gate = deferred<number>();
    calls.push({ input, gate });
    return gate.promise;
  });
  return { primitive, calls };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A context built by hand: a deadline with no run timer behind it, so only the bulkhead can act on it. */
function handCtx(scope: Scope, deadline?: number): Ctx {
  return new Ctx(new RunState('corr-1', undefined, 'wf', {}), 'work', scope, deadline, 1, undefined, ROOT_CONTEXT);
}

function capture(): { seen: WeftEvent[]; stop: () => void } {
  const seen: WeftEvent[] = [];
  const sub = events.subscribe((e) => seen.push(e));
  return { seen, stop: () => sub.unsubscribe() };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('bulkhead', () => {
  it('runs at most maxConcurrent calls at once and rejects the rest when there is no queue', async () => {
    const { primitive, calls } = gated();
    const limited = bulkhead(primitive, { maxConcurrent: 2 });
    const a = limited.run(1);
    const b = limited.run(2);
    const c = limited.run(3).catch((e: unknown) => e);
    expect(calls.map((x) => x.input)).toEqual([1, 2]);
    const rejected = await c;
    expect(rejected).toBeInstanceOf(BulkheadRejectedError);
    expect(isBulkheadRejectedError(rejected)).toBe(true);
    expect(rejected).toMatchObject({ maxConcurrent: 2, maxQueue: 0 });
    calls[0]!.gate.resolve(10);
    calls[1]!.gate.resolve(20);
    expect(await Promise.all([a, b])).toEqual([10, 20]);
  });

  it('queues up to maxQueue calls and starts them in arrival order as slots free', async () => {
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const limited = bulkhead(primitive, shared);
    const results = [1, 2, 3].map((n) => limited.run(n).then((value) => ({ value }), (error: unknown) => ({ error })));
    const fourth = limited.run(4).catch((e: unknown) => e);
    expect(shared.active).toBe(1);
    expect(shared.queued).toBe(2);
    expect(await fourth).toBeInstanceOf(BulkheadRejectedError);
    expect(calls.map((x) => x.input)).toEqual([1]);
    calls[0]!.gate.resolve(1);
    await flush();
    expect(calls.map((x) => x.input)).toEqual([1, 2]);
    expect(shared.active).toBe(1);
    expect(shared.queued).toBe(1);
    calls[1]!.gate.reject(new Error('second failed'));
    await flush();
    expect(calls.map((x) => x.input)).toEqual([1, 2, 3]);
    calls[2]!.gate.resolve(3);
    expect(await Promise.all(results)).toEqual([{ value: 1 }, { error: new Error('second failed') }, { value: 3 }]);
    expect(shared.active).toBe(0);
    expect(shared.queued).toBe(0);
  });

  it('emits bulkhead.queued and bulkhead.rejected with the counts and the bulkhead name', async () => {
    const { primitive, calls } = gated('fetch');
    const limited = primitive.bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const { seen, stop } = capture();
    try {
      const a = limited.run(1);
      const b = limited.run(2);
      await limited.run(3).catch(() => undefined);
      const mine = seen.filter((e) => e.type.startsWith('bulkhead.'));
      expect(mine).toEqual([
        expect.objectContaining({ type: 'bulkhead.queued', bulkhead: 'fetch', queued: 1, primitive: 'bulkhead', workflow: 'fetch' }),
        expect.objectContaining({ type: 'bulkhead.rejected', bulkhead: 'fetch', active: 1, queued: 1 }),
      ]);
      calls[0]!.gate.resolve(1);
      await flush();
      calls[1]!.gate.resolve(2);
      await Promise.all([a, b]);
    } finally {
      stop();
    }
  });

  it('shares one limit between every primitive given the same Bulkhead', async () => {
    const db = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, name: 'db' });
    const read = gated('read');
    const write = gated('write');
    const r = read.primitive.bulkhead(db).run(1);
    const w = write.primitive.bulkhead(db).run(2);
    expect(db.active).toBe(1);
    expect(db.queued).toBe(1);
    await expect(read.primitive.bulkhead(db).run(3)).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(write.calls).toHaveLength(0);
    read.calls[0]!.gate.resolve(1);
    await flush();
    expect(write.calls).toHaveLength(1);
    write.calls[0]!.gate.resolve(2);
    expect(await Promise.all([r, w])).toEqual([1, 2]);
  });

  it('takes a queued caller out of the queue at once when its scope aborts, rejecting with the reason', async () => {
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const limited = bulkhead(primitive, shared);
    const first = limited.run(1);
    const scope = new Scope();
    const queued = limited.exec(2, handCtx(scope)).catch((e: unknown) => e);
    const behind = limited.run(3);
    expect(shared.queued).toBe(2);
    const reason = new AbortedError('client went away');
    scope.abort(reason);
    expect(shared.queued).toBe(1);
    expect(await queued).toBe(reason);
    calls[0]!.gate.resolve(1);
    await flush();
    // The aborted caller never ran; the slot went to the next in line.
    expect(calls.map((c) => c.input)).toEqual([1, 3]);
    calls[1]!.gate.resolve(3);
    expect(await Promise.all([first, behind])).toEqual([1, 3]);
    expect(shared.active).toBe(0);
    expect(shared.queued).toBe(0);
  });

  it('rejects a queued caller with AbortedError when the caller aborts its run', async () => {
    const { primitive, calls } = gated();
    const limited = primitive.bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const first = limited.run(1);
    const controller = new AbortController();
    const second = limited.run(2, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort('stop');
    expect(isAbortedError(await second)).toBe(true);
    // The queue has room again: a new caller queues instead of being rejected.
    const third = limited.run(3);
    calls[0]!.gate.resolve(1);
    await flush();
    expect(calls.map((c) => c.input)).toEqual([1, 3]);
    calls[1]!.gate.resolve(3);
    expect(await Promise.all([first, third])).toEqual([1, 3]);
  });

  it('lets a wrapping timeout take a queued caller out of the queue', async () => {
    vi.useFakeTimers();
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const first = bulkhead(primitive, shared).run(1);
    const bounded = timeout(bulkhead(primitive, shared), 50).run(2).catch((e: unknown) => e);
    expect(shared.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(isTimeoutError(await bounded)).toBe(true);
    expect(shared.queued).toBe(0);
    calls[0]!.gate.resolve(1);
    expect(await first).toBe(1);
    expect(calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes a queued branch out of the queue when a sibling branch fails', async () => {
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const holder = bulkhead(primitive, shared).run(0);
    const failing = step('failing', async () => {
      await flush();
      throw new Error('sibling failed');
    });
    const flow = parallel([bulkhead(primitive, shared), failing]);
    const outcome = flow.run(1).catch((e: unknown) => e);
    expect(shared.queued).toBe(1);
    expect(await outcome).toMatchObject({ message: 'sibling failed' });
    expect(shared.queued).toBe(0);
    calls[0]!.gate.resolve(0);
    await holder;
    await flush();
    expect(calls).toHaveLength(1);
    expect(shared.active).toBe(0);
  });

  it('never spends a slot on a queued caller whose run was abandoned by a detached scope', async () => {
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const limited = bulkhead(primitive, shared);
    const first = limited.run(1);
    const run = new Scope();
    const detached = new Scope(run);
    const abandoned = limited.exec(2, handCtx(detached)).catch((e: unknown) => e);
    const behind = limited.run(3);
    // The child is detached before the run aborts, so it never hears of the abort itself.
    detached.dispose();
    run.abort(new AbortedError('run over'));
    expect(shared.queued).toBe(2);
    calls[0]!.gate.resolve(1);
    await flush();
    expect(isAbortedError(await abandoned)).toBe(true);
    expect(calls.map((c) => c.input)).toEqual([1, 3]);
    calls[1]!.gate.resolve(3);
    expect(await Promise.all([first, behind])).toEqual([1, 3]);
    expect(shared.active).toBe(0);
    expect(shared.queued).toBe(0);
  });

  it('rejects a queued caller with TimeoutError when its deadline passes, leaving no timer behind', async () => {
    vi.useFakeTimers();
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const limited = bulkhead(primitive, shared);
    const first = limited.run(1);
    const scope = new Scope();
    const late = limited.exec(2, handCtx(scope, Date.now() + 100)).catch((e: unknown) => e);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(shared.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = await late;
    expect(isTimeoutError(error)).toBe(true);
    expect(shared.queued).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    // Aborting the scope afterwards is harmless: the abort callback was removed.
    scope.abort(new Error('later'));
    calls[0]!.gate.resolve(1);
    expect(await first).toBe(1);
    expect(calls).toHaveLength(1);
  });

  it('rejects with TimeoutError at once when the deadline has already passed and no slot is free', async () => {
    vi.useFakeTimers();
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const first = bulkhead(primitive, shared).run(1);
    const error = await bulkhead(primitive, shared).exec(2, handCtx(new Scope(), Date.now() - 1)).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(shared.queued).toBe(0);
    calls[0]!.gate.resolve(1);
    await first;
  });

  it('clears the queue timer and abort callback of a caller that gets its slot', async () => {
    vi.useFakeTimers();
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const limited = bulkhead(primitive, shared);
    const first = limited.run(1);
    const scope = new Scope();
    const second = limited.exec(2, handCtx(scope, Date.now() + 1_000));
    expect(vi.getTimerCount()).toBe(1);
    calls[0]!.gate.resolve(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
    // An abort now is the running call's business, not the queue's: the bulkhead does not reject it.
    scope.abort(new Error('late abort'));
    calls[1]!.gate.resolve(2);
    expect(await Promise.all([first, second])).toEqual([1, 2]);
  });

  it('frees the slot when the wrapped call throws synchronously or rejects', async () => {
    const shared = new Bulkhead({ maxConcurrent: 1 });
    const throwsSync = bulkhead(step('sync-throw', () => {
      throw new Error('sync');
    }), shared);
    await expect(throwsSync.run(undefined)).rejects.toThrow('sync');
    expect(shared.active).toBe(0);
    // An exec that throws instead of returning a rejected promise.
    const rawThrow = bulkhead(
      definePrimitive<void, never>('raw', 'raw', () => {
        throw new Error('raw');
      }),
      shared,
    );
    await expect(rawThrow.exec(undefined, handCtx(new Scope()))).rejects.toThrow('raw');
    expect(shared.active).toBe(0);
    await expect(bulkhead(step('ok', () => 'ok'), shared).run(undefined)).resolves.toBe('ok');
  });

  it('holds the slot until work that ignores its signal really finishes', async () => {
    const { primitive, calls } = gated();
    const shared = new Bulkhead({ maxConcurrent: 1 });
    const controller = new AbortController();
    const first = bulkhead(primitive, shared).run(1, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(isAbortedError(await first)).toBe(true);
    expect(shared.active).toBe(1);
    await expect(bulkhead(primitive, shared).run(2)).rejects.toBeInstanceOf(BulkheadRejectedError);
    calls[0]!.gate.resolve(1);
    await flush();
    expect(shared.active).toBe(0);
  });

  it('rejects at once without queueing when the run is already aborted', async () => {
    const { primitive, calls } = gated();
    const scope = new Scope();
    scope.abort(new AbortedError('gone'));
    const error = await bulkhead(primitive, { maxConcurrent: 1 }).exec(1, handCtx(scope)).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(calls).toHaveLength(0);
  });

  it('throws a TypeError naming the option for bad options', () => {
    const p = step('p', () => 1);
    expect(() => bulkhead(p, {} as never)).toThrow(/`maxConcurrent`/);
    expect(() => bulkhead(p, { maxConcurrent: 0 })).toThrow(/`maxConcurrent` to be an integer >= 1, got 0/);
    expect(() => bulkhead(p, { maxConcurrent: 1.5 })).toThrow(TypeError);
    expect(() => bulkhead(p, { maxConcurrent: Infinity })).toThrow(/`maxConcurrent`/);
    expect(() => bulkhead(p, { maxConcurrent: 1, maxQueue: -1 })).toThrow(/`maxQueue`/);
    expect(() => bulkhead(p, { maxConcurrent: 1, maxQueue: 0.5 })).toThrow(/`maxQueue`/);
    expect(() => new Bulkhead({ maxConcurrent: 1, name: 'has space' })).toThrow(/`name`/);
    expect(() => bulkhead(p, null as never)).toThrow(/`options`/);
    expect(() => bulkhead({} as never, { maxConcurrent: 1 })).toThrow(/`primitive`/);
    expect(() => p.bulkhead({ maxConcurrent: -2 })).toThrow(/`maxConcurrent`/);
  });

  it('accepts an unbounded queue and names itself after the wrapped primitive', () => {
    const shared = new Bulkhead({ maxConcurrent: 3, maxQueue: Infinity });
    expect(shared).toMatchObject({ maxConcurrent: 3, maxQueue: Infinity, name: 'bulkhead', active: 0, queued: 0 });
    const limited = bulkhead(step('fetch', () => 1), { maxConcurrent: 1 });
    expect(limited.name).toBe('fetch');
    expect(limited.kind).toBe('bulkhead');
  });

  it('never exceeds maxConcurrent, keeps FIFO order, and settles every caller under random arrivals, aborts and completions', async () => {
    type Op = { op: 'arrive'; honours: boolean } | { op: 'abort'; pick: number } | { op: 'complete'; pick: number; ok: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('arrive' as const), honours: fc.boolean() }),
      fc.record({ op: fc.constant('abort' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('complete' as const), pick: fc.nat(), ok: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.array(op, { maxLength: 40 }), async (maxConcurrent, maxQueue, ops) => {
        const shared = new Bulkhead({ maxConcurrent, maxQueue });
        let inFlight = 0;
        let peak = 0;
        const running: Array<{ id: number; finish: (ok: boolean) => void }> = [];
        const started: number[] = [];
        const work = step('work', ({ id, honours }: { id: number; honours: boolean }, ctx) =>
          new Promise<number>((resolve, reject) => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            started.push(id);
            let done = false;
            const finish = (ok: boolean): void => {
              if (done) return;
              done = true;
              inFlight--;
              running.splice(running.findIndex((r) => r.id === id), 1);
              if (ok) resolve(id);
              else reject(new Error(`work ${id} failed`));
            };
            running.push({ id, finish });
            if (honours) ctx.signal.addEventListener('abort', () => finish(false), { once: true });
          }),
        );
        const limited = bulkhead(work, shared);
        const callers: Array<{ controller: AbortController; fullOnArrival: boolean; outcome?: 'ok' | 'rejected' | 'aborted' | 'failed' }> = [];

        const check = (): void => {
          expect(peak).toBeLessThanOrEqual(maxConcurrent);
          expect(shared.active).toBeLessThanOrEqual(maxConcurrent);
          expect(shared.queued).toBeLessThanOrEqual(maxQueue);
          // No slot is leaked or double-counted once the promise reactions have run.
          expect(shared.active).toBe(inFlight);
          if (shared.queued > 0) expect(shared.active).toBe(maxConcurrent);
          // The queue holds exactly the callers still waiting: an aborted caller has left it.
          const waiting = callers.filter((c, id) => c.outcome === undefined && !started.includes(id)).length;
          expect(shared.queued).toBe(waiting);
        };

        for (const o of ops) {
          if (o.op === 'arrive') {
            const id = callers.length;
            const caller = { controller: new AbortController(), fullOnArrival: shared.active === maxConcurrent && shared.queued === maxQueue } as (typeof callers)[number];
            callers.push(caller);
            limited.run({ id, honours: o.honours }, { signal: caller.controller.signal }).then(
              () => {
                caller.outcome = 'ok';
              },
              (error: unknown) => {
                caller.outcome = isBulkheadRejectedError(error) ? 'rejected' : isAbortedError(error) ? 'aborted' : 'failed';
              },
            );
          } else if (o.op === 'abort' && callers.length > 0) {
            callers[o.pick % callers.length]!.controller.abort();
          } else if (o.op === 'complete' && running.length > 0) {
            running[o.pick % running.length]!.finish(o.ok);
          }
          await flush();
          check();
        }
        while (running.length > 0) {
          running[0]!.finish(true);
          await flush();
          check();
        }
        await flush();
        expect(shared.active).toBe(0);
        expect(shared.queued).toBe(0);
        expect(peak).toBeLessThanOrEqual(maxConcurrent);
        // Callers start in arrival order (the queue is FIFO and only fills while every slot is taken).
        expect(started).toEqual([...started].sort((a, b) => a - b));
        for (const caller of callers) {
          expect(caller.outcome).toBeDefined();
          expect(caller.outcome === 'rejected').toBe(caller.fullOnArrival);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('bulkhead: clock, hooks and options (issue 13)', () => {
  it('times a queued call out at its deadline on the current clock, and clears the timer', async () => {
    const clock = manualClock();
    const restore = useClock(clock);
    try {
      const hold = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
      let release!: () => void;
      const busy = step('busy', () => new Promise<void>((r) => (release = r))).bulkhead(hold);
      const first = busy.run(undefined);
      const queued = busy.run(undefined, { timeout: 500 }).catch((e: unknown) => e);
      await clock.advance(499);
      expect(hold.queued).toBe(1);
      await clock.advance(1);
      expect(await queued).toMatchObject({ name: 'TimeoutError' });
      release();
      await first;
      expect(clock.pending()).toBe(0);
    } finally {
      restore();
    }
  });

  it('calls onRejected when the queue is full', async () => {
    const refused: unknown[] = [];
    const hold = new Bulkhead({ maxConcurrent: 1, onRejected: (e) => refused.push(e) });
    const busy = step('busy', () => new Promise<void>(() => {})).bulkhead(hold);
    void busy.run(undefined);
    await expect(busy.run(undefined)).rejects.toMatchObject({ name: 'BulkheadRejectedError' });
    expect(refused).toHaveLength(1);
  });

  it('rejects misspelt options with a suggestion: maxQeue no longer leaves the queue at 0', () => {
    expect(() => new Bulkhead({ maxConcurrent: 2, maxQeue: 10 } as never)).toThrow('Unknown bulkhead option `maxQeue` (did you mean `maxQueue`?)');
  });
});
