import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import type { Subscription } from 'rxjs';
import { step } from '../step/step.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { CompensationError, isCompensationError } from '../errors/compensation-error.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import type { RunContext } from '../context/run-context.js';
import { useClock } from '../clock/clock.js';
import { manualClock } from '../test-support/manual-clock.js';
import { recoverSagas, saga, type CompensationArgs, type SagaStep } from './saga.js';
import { MemorySagaLog, type SagaLog } from './saga-log.js';

let subscription: Subscription | undefined;
afterEach(() => {
  subscription?.unsubscribe();
  subscription = undefined;
  vi.useRealTimers();
});
function sagaEvents(): WeftEvent[] {
  const seen: WeftEvent[] = [];
  subscription = events.subscribe((e) => {
    if (e.type.startsWith('saga.')) seen.push(e);
  });
  return seen;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts. */
function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A chain of n numeric steps (step i adds 10^i) recording every call in `calls`. */
function chain(n: number, calls: string[], opts: { failAt?: number; failCompensations?: ReadonlySet<number>; signalAware?: number; onStep?: (i: number) => void } = {}) {
  const compensationErrors = new Map<number, Error>();
  const steps: SagaStep<unknown, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    steps.push({
      name: `s${i}`,
      step: async (input: unknown, ctx: RunContext) => {
        calls.push(`step:${i}`);
        opts.onStep?.(i);
        if (opts.signalAware === i) await wait(10_000, ctx.signal);
        if (opts.failAt === i) throw new Error(`step ${i} failed`);
        return (input as number) + 10 ** i;
      },
      compensate: ({ input, output }, ctx) => {
        calls.push(`undo:${i}:${String(input)}->${String(output)}`);
        expect(ctx.aborted).toBe(false);
        if (opts.failCompensations?.has(i)) {
          const error = new Error(`undo ${i} failed`);
          compensationErrors.set(i, error);
          throw error;
        }
      },
    });
  }
  return { steps, compensationErrors };
}

describe('saga', () => {
  it('runs its steps in order, each taking the previous output', async () => {
    const seen = sagaEvents();
    const book = saga(
      [
        { step: step('reserve', (n: number) => n + 1), compensate: () => {} },
        { step: step('charge', (n: number) => `paid:${n}`), compensate: () => {} },
      ],
      { name: 'book' },
    );
    expect(book.name).toBe('book');
    expect(book.kind).toBe('saga');
    expect(await book.run(1)).toBe('paid:2');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'saga.finished', saga: 'book', step: 'book', outcome: 'completed', recovered: false });
  });

  it('compensates the completed steps in reverse, with each step input and output, and rethrows the original error', async () => {
    const seen = sagaEvents();
    const calls: string[] = [];
    const { steps } = chain(4, calls, { failAt: 2 });
    const error = await saga(steps, { name: 'four' }).run(0).catch((e: unknown) => e);
    expect((error as Error).message).toBe('step 2 failed');
    // The failing step's outcome is unknown (it may have taken effect before failing): it is compensated too.
    expect(calls).toEqual(['step:0', 'step:1', 'step:2', 'undo:2:11->undefined', 'undo:1:1->11', 'undo:0:0->1']);
    expect(seen.map((e) => (e.type === 'saga.compensation' ? `${e.compensatedStep}:${e.outcome}` : e.type === 'saga.finished' ? e.outcome : e.type))).toEqual([
      's2:success',
      's1:success',
      's0:success',
      'compensated',
    ]);
    expect(seen[3]).toMatchObject({ error });
  });

  it('skips steps without a compensation', async () => {
    const undone: string[] = [];
    const flow = saga([
      { step: step('a', (n: number) => n), compensate: () => void undone.push('a') },
      { step: step('b', (n: number) => n) },
      {
        step: step('c', (): number => {
          throw new Error('c failed');
        }),
      },
    ]);
    await expect(flow.run(1)).rejects.toThrow('c failed');
    expect(undone).toEqual(['a']);
  });

  it('throws CompensationError with the original error and every compensation failure, still running the rest', async () => {
    const seen = sagaEvents();
    const calls: string[] = [];
    const { steps, compensationErrors } = chain(4, calls, { failAt: 3, failCompensations: new Set([2, 0]) });
    const error = await saga(steps).run(0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompensationError);
    expect(isCompensationError(error)).toBe(true);
    const c = error as CompensationError;
    expect((c.cause as Error).message).toBe('step 3 failed');
    expect(c.errors).toEqual([compensationErrors.get(2), compensationErrors.get(0)]);
    expect(c.message).toBe('2 compensations failed after: step 3 failed');
    expect(calls.filter((x) => x.startsWith('undo'))).toHaveLength(4);
    expect(seen.at(-1)).toMatchObject({ type: 'saga.finished', outcome: 'compensation_failed' });
  });

  it('compensates when the run is aborted mid-way, in a scope the abort does not reach', async () => {
    const calls: string[] = [];
    const controller = new AbortController();
    const finished = new Promise<WeftEvent>((resolve) => {
      subscription = events.subscribe((e) => {
        if (e.type === 'saga.finished') resolve(e);
      });
    });
    const { steps } = chain(4, calls, { signalAware: 2, onStep: (i) => i === 2 && setTimeout(() => controller.abort('user cancelled'), 1) });
    const error = await saga(steps).run(0, { signal: controller.signal }).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(await finished).toMatchObject({ outcome: 'compensated' });
    expect(calls).toEqual(['step:0', 'step:1', 'step:2', 'undo:2:11->undefined', 'undo:1:1->11', 'undo:0:0->1']);
  });

  it('compensates a step that completes although the run timed out, and starts no further step', async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const finished = new Promise<WeftEvent>((resolve) => {
      subscription = events.subscribe((e) => {
        if (e.type === 'saga.finished') resolve(e);
      });
    });
    const flow = saga([
      { step: step('fast', (n: number) => n + 1), compensate: () => void calls.push('undo fast') },
      { step: step('deaf', async (n: number) => { await wait(500); return n + 1; }), compensate: () => void calls.push('undo deaf') },
      { step: step('never', (n: number) => (calls.push('never ran'), n)), compensate: () => void calls.push('undo never') },
    ]);
    const result = flow.run(0, { timeout: 100 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(isTimeoutError(await result)).toBe(true);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(await finished).toMatchObject({ outcome: 'compensated' });
    expect(calls).toEqual(['undo deaf', 'undo fast']);
  });

  it('retries a compensation per its retry policy', async () => {
    vi.useFakeTimers();
    let attempts = 0;
    const attemptsSeen: number[] = [];
    const flow = saga([
      {
        step: step('a', (n: number) => n),
        compensate: (_, ctx) => {
          attempts++;
          attemptsSeen.push(ctx.attempt);
          if (attempts < 3) throw new Error(`undo attempt ${attempts} failed`);
        },
        retry: { retries: 3, delayMs: 1_000 },
      },
      { step: step('b', (): number => { throw new Error('b failed'); }) },
    ]);
    const result = flow.run(1).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(((await result) as Error).message).toBe('b failed');
    expect(attemptsSeen).toEqual([1, 2, 3]);
  });

  it('reports the last failure when compensation retries run out', async () => {
    let attempts = 0;
    const flow = saga(
      [
        { step: step('a', (n: number) => n), compensate: () => { throw new Error(`undo ${++attempts}`); } },
        { step: step('b', (): number => { throw new Error('b failed'); }) },
      ],
      { compensationRetry: { retries: 2 } },
    );
    const error = (await flow.run(1).catch((e: unknown) => e)) as CompensationError;
    expect(attempts).toBe(3);
    expect(error.errors.map((e) => (e as Error).message)).toEqual(['undo 3']);
  });

  it('accepts a primitive as compensation, so it can carry its own policies', async () => {
    const undone: unknown[] = [];
    const undo = step('undo', (args: CompensationArgs<number, number>) => void undone.push(args));
    const flow = saga([
      { step: step('a', (n: number) => n * 2), compensate: undo },
      { step: step('b', (): number => { throw new Error('b failed'); }) },
    ]);
    await expect(flow.run(21)).rejects.toThrow('b failed');
    expect(undone).toEqual([{ input: 21, output: 42, outcome: 'completed', idempotencyKey: expect.stringMatching(/:0:a$/) as unknown }]);
  });

  it('bounds the compensation phase by compensationTimeoutMs, reporting each timed-out compensation', async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const flow = saga(
      [
        { step: step('a', (n: number) => n), compensate: () => void calls.push('undo a') },
        { step: step('b', (n: number) => n), compensate: () => new Promise(() => calls.push('undo b hangs')) },
        { step: step('c', (): number => { throw new Error('c failed'); }) },
      ],
      { compensationTimeoutMs: 5_000 },
    );
    const result = flow.run(1).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    const error = (await result) as CompensationError;
    expect(isCompensationError(error)).toBe(true);
    expect((error.cause as Error).message).toBe('c failed');
    expect(error.errors).toHaveLength(2);
    expect(error.errors.every(isTimeoutError)).toBe(true);
    expect(calls).toEqual(['undo b hangs']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives compensations a live signal even though the run was aborted', async () => {
    const controller = new AbortController();
    let compensationSignal: AbortSignal | undefined;
    const done = new Promise<void>((resolve) => {
      subscription = events.subscribe((e) => e.type === 'saga.finished' && resolve());
    });
    const flow = saga([
      { step: step('a', (n: number) => n), compensate: (_, ctx) => void (compensationSignal = ctx.signal) },
      { step: step('b', async (n: number, ctx) => { controller.abort(); await wait(10_000, ctx.signal); return n; }) },
    ]);
    await expect(flow.run(1, { signal: controller.signal })).rejects.toThrow();
    await done;
    expect(compensationSignal?.aborted).toBe(false);
  });

  it('records progress in the saga log', async () => {
    const log = new MemorySagaLog({ retainFinished: 10 });
    const flow = saga(
      [
        { step: step('a', (n: number) => n + 1), compensate: () => {} },
        { step: step('b', (): number => { throw new Error('b failed'); }), compensate: () => {} },
      ],
      { name: 'logged', log, id: (n) => `order-${n}` },
    );
    await expect(flow.run(7)).rejects.toThrow('b failed');
    const record = await log.get('logged', 'order-7');
    expect(record?.entries.map(({ at: _, ...rest }) => rest)).toEqual([
      { type: 'started', input: 7, owner: expect.stringMatching(/^\d+-\w+\/\w+$/) as unknown },
      { type: 'intent', index: 0, step: 'a', key: 'order-7:0:a' },
      { type: 'step', index: 0, step: 'a', output: 8 },
      { type: 'intent', index: 1, step: 'b', key: 'order-7:1:b' },
      { type: 'compensating', error: { name: 'Error', message: 'b failed' } },
      { type: 'compensated', index: 1, step: 'b', outcome: 'unknown' },
      { type: 'compensated', index: 0, step: 'a', outcome: 'completed' },
      { type: 'finished', outcome: 'compensated', error: { name: 'Error', message: 'b failed' } },
    ]);
    expect(await log.unfinished('logged')).toEqual([]);
  });

  it('drops finished sagas from the memory log beyond retainFinished', async () => {
    const log = new MemorySagaLog({ retainFinished: 1 });
    const flow = saga([{ step: step('a', (n: number) => n) }], { name: 'short', log, id: (n) => `x${n}` });
    await flow.run(1);
    await flow.run(2);
    expect(await log.get('short', 'x1')).toBeUndefined();
    expect(await log.get('short', 'x2')).toBeDefined();
  });

  it('compensates when a log write fails, and reports the log error', async () => {
    const inner = new MemorySagaLog();
    let failNext = false;
    const log: SagaLog = {
      begin: (...args) => inner.begin(...args),
      append: (saga, id, entry, lease) => (failNext && entry.type === 'step' ? Promise.reject(new Error('log down')) : inner.append(saga, id, entry, lease)),
      unfinished: (saga) => inner.unfinished(saga),
      claim: (...args) => inner.claim(...args),
      get: (...args) => inner.get(...args),
    };
    const undone: number[] = [];
    const flow = saga([{ step: step('a', (n: number) => (failNext = true, n)), compensate: ({ output }) => void undone.push(output!) }], { log });
    await expect(flow.run(5)).rejects.toThrow('log down');
    expect(undone).toEqual([5]);
  });
});

describe('saga properties', () => {
  it('step k of n failing compensates exactly steps k..0, in reverse, once each; failing compensations are listed exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.array(fc.boolean(), { minLength: n, maxLength: n }))),
        async ([n, failAt, compFails]) => {
          const calls: string[] = [];
          const failing = new Set(compFails.flatMap((f, i) => (f ? [i] : [])));
          const { steps, compensationErrors } = chain(n, calls, { failAt: failAt < n ? failAt : undefined, failCompensations: failing });
          const outcome = await saga(steps).run(0).then(
            (value) => ({ ok: true as const, value }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          // The failing step too: its outcome is unknown.
          const undone = Math.min(failAt + 1, n);
          const expectedUndos = Array.from({ length: undone }, (_, j) => undone - 1 - j);
          const undos = calls.filter((c) => c.startsWith('undo')).map((c) => Number(c.split(':')[1]));
          if (failAt === n) {
            expect(outcome.ok).toBe(true);
            expect(undos).toEqual([]);
            return;
          }
          expect(undos).toEqual(expectedUndos);
          expect(calls.filter((c) => c.startsWith('step'))).toHaveLength(failAt + 1);
          const expectedFailures = expectedUndos.filter((i) => failing.has(i)).map((i) => compensationErrors.get(i));
          if (!outcome.ok && expectedFailures.length > 0) {
            expect(isCompensationError(outcome.error)).toBe(true);
            expect((outcome.error as CompensationError).errors).toEqual(expectedFailures);
            expect(((outcome.error as CompensationError).cause as Error).message).toBe(`step ${failAt} failed`);
          } else {
            expect(outcome.ok).toBe(false);
            expect((outcome as { error: Error }).error.message).toBe(`step ${failAt} failed`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('aborting during step k compensates steps k..0 in reverse, once each (step k as unknown)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        async ([n, abortAt]) => {
          const calls: string[] = [];
          const controller = new AbortController();
          const finished = new Promise<WeftEvent>((resolve) => {
            subscription = events.subscribe((e) => e.type === 'saga.finished' && resolve(e));
          });
          const { steps } = chain(n, calls, { signalAware: abortAt, onStep: (i) => i === abortAt && queueMicrotask(() => controller.abort()) });
          const error = await saga(steps).run(0, { signal: controller.signal }).catch((e: unknown) => e);
          const event = await finished;
          subscription?.unsubscribe();
          expect(isAbortedError(error)).toBe(true);
          // Compensations saw a live scope (chain() asserts it) and all succeeded.
          expect(event).toMatchObject({ outcome: 'compensated' });
          const undos = calls.filter((c) => c.startsWith('undo')).map((c) => Number(c.split(':')[1]));
          expect(undos).toEqual(Array.from({ length: abortAt + 1 }, (_, j) => abortAt - j));
          expect(calls.filter((c) => c.startsWith('step'))).toHaveLength(abortAt + 1);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('recoverSagas', () => {
  let restore: (() => void) | undefined;
  let clock: ReturnType<typeof manualClock>;
  beforeEach(() => {
    clock = manualClock();
    restore = useClock(clock);
  });
  afterEach(() => restore?.());
  const DEAD = { owner: 'dead-1/aaaa', leaseMs: 1_000 };

  /** A saga whose definition matches log records written by hand, as a crashed process leaves them. */
  function crashed() {
    const log = new MemorySagaLog();
    const undone: string[] = [];
    const flow = saga(
      [
        { name: 'reserve', step: (n: number) => n + 1, compensate: ({ input, output }) => void undone.push(`reserve ${input}->${output}`) },
        { name: 'charge', step: (n: number) => n * 10, compensate: async ({ input, output }) => void undone.push(`charge ${input}->${output}`) },
        { name: 'ship', step: (n: number) => n, compensate: ({ outcome }) => void undone.push(`ship ${outcome}`) },
      ],
      { name: 'order', log },
    );
    /** Leaves an execution as a process killed after `completed` steps (and the intent of the next, with `inFlight`) would. */
    const write = async (id: string, completed: number, extra: Parameters<SagaLog['append']>[2][] = [], inFlight = false) => {
      await log.begin('order', id, { type: 'started', at: clock.now(), input: 1, owner: DEAD.owner }, DEAD);
      const outputs = [2, 20, 20];
      const names = ['reserve', 'charge', 'ship'];
      for (let i = 0; i < completed; i++) {
        await log.append('order', id, { type: 'intent', at: clock.now(), index: i, step: names[i]!, key: `${id}:${i}:${names[i]}` }, DEAD);
        await log.append('order', id, { type: 'step', at: clock.now(), index: i, step: names[i]!, output: outputs[i] }, DEAD);
      }
      if (inFlight) await log.append('order', id, { type: 'intent', at: clock.now(), index: completed, step: names[completed]!, key: `${id}:${completed}:x` }, DEAD);
      for (const e of extra) await log.append('order', id, e, DEAD);
      await clock.advance(DEAD.leaseMs + 1);
    };
    return { log, undone, flow, write };
  }

  it('compensates an unfinished saga whose lease lapsed exactly once, the step in flight included', async () => {
    const seen = sagaEvents();
    const { log, undone, flow, write } = crashed();
    await write('crashed-1', 2, [], true);
    const [first, second] = await Promise.all([recoverSagas(flow), saga.recover(flow)]);
    expect([...first, ...second]).toEqual([{ sagaId: 'crashed-1', outcome: 'compensated', errors: [] }]);
    expect(undone).toEqual(['ship unknown', 'charge 2->20', 'reserve 1->2']);
    expect(await recoverSagas(flow)).toEqual([]);
    expect(undone).toHaveLength(3);
    expect(await log.unfinished('order')).toEqual([]);
    expect(seen.map((e) => e.type)).toEqual(['saga.takeover', 'saga.compensation', 'saga.compensation', 'saga.compensation', 'saga.finished']);
    expect(seen.at(-1)).toMatchObject({ type: 'saga.finished', outcome: 'compensated', recovered: true, sagaId: 'crashed-1' });
    expect((await log.get('order', 'crashed-1'))?.entries.find((e) => e.type === 'takeover')).toMatchObject({ previous: DEAD.owner, direction: 'compensate' });
  });

  it('does not compensate again a step the log records as compensated, and goes on compensating', async () => {
    const { undone, flow, write } = crashed();
    await write('half-done', 2, [
      { type: 'compensating', at: 0, error: { name: 'ServiceError', message: 'shipping down' } },
      { type: 'compensated', at: 0, index: 1, step: 'charge' },
    ]);
    expect(await recoverSagas(flow)).toEqual([{ sagaId: 'half-done', outcome: 'compensated', errors: [] }]);
    expect(undone).toEqual(['reserve 1->2']);
  });

  it('reports failures, including those recorded before the crash', async () => {
    const { flow, write } = crashed();
    await write('bad', 2, [{ type: 'compensation_failed', at: 0, index: 1, step: 'charge', error: 'card API down' }]);
    const [result] = await recoverSagas(flow);
    expect(result?.outcome).toBe('compensation_failed');
    expect((result?.errors[0] as Error).message).toContain('card API down');
  });

  it('leaves a log that does not match the definition untouched', async () => {
    const { log, undone, flow } = crashed();
    await log.begin('order', 'old', { type: 'started', at: 0, input: 1 }, DEAD);
    await log.append('order', 'old', { type: 'step', at: 0, index: 0, step: 'renamed', output: 2 }, DEAD);
    await clock.advance(DEAD.leaseMs + 1);
    const [result] = await recoverSagas(flow);
    expect(result?.outcome).toBe('unrecoverable');
    expect((result?.errors[0] as Error).message).toContain('"renamed"');
    expect(undone).toEqual([]);
    expect(await log.unfinished('order')).toHaveLength(1);
  });

  it('reads, claims and records in the log it is given', async () => {
    const { undone, flow } = crashed();
    const other = new MemorySagaLog({ retainFinished: 5 });
    await other.begin('order', 'elsewhere', { type: 'started', at: 0, input: 1 }, DEAD);
    await other.append('order', 'elsewhere', { type: 'step', at: 0, index: 0, step: 'reserve', output: 2 }, DEAD);
    await clock.advance(DEAD.leaseMs + 1);
    expect(await recoverSagas(flow, { log: other })).toEqual([{ sagaId: 'elsewhere', outcome: 'compensated', errors: [] }]);
    expect(undone).toEqual(['reserve 1->2']);
    expect((await other.get('order', 'elsewhere'))?.entries.at(-1)).toMatchObject({ type: 'finished', outcome: 'compensated' });
  });

  it('skips executions younger than olderThanMs', async () => {
    const { undone, flow, write } = crashed();
    await write('recent', 1);
    expect(await recoverSagas(flow, { olderThanMs: 60_000 })).toEqual([]);
    expect(undone).toEqual([]);
    await clock.advance(60_000);
    expect(await recoverSagas(flow, { olderThanMs: 60_000 })).toHaveLength(1);
  });

  it('never takes over a live saga: its lease is renewed while it runs, however long', async () => {
    let release!: (e: Error) => void;
    const log = new MemorySagaLog();
    const undone: string[] = [];
    const flow = saga(
      [
        { name: 'a', step: (n: number) => n, compensate: () => void undone.push('a') },
        { name: 'b', step: () => new Promise<number>((_, reject) => (release = reject)) },
      ],
      { name: 'slow', log, leaseMs: 1_000 },
    );
    const live = flow.run(1).catch((e: unknown) => e);
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    for (let i = 0; i < 10; i++) {
      await clock.advance(700);
      expect(await recoverSagas(flow)).toEqual([]);
    }
    release(new Error('b failed late'));
    expect(((await live) as Error).message).toBe('b failed late');
    expect(undone).toEqual(['a']);
    expect(clock.pending()).toBe(0);
  });
});

describe('saga options', () => {
  const a = step('a', (n: number) => n);
  it('throws TypeErrors naming the bad option', async () => {
    expect(() => saga([] as never)).toThrow(/`steps`/);
    expect(() => saga([42] as never)).toThrow(/`steps\[0\]`/);
    expect(() => saga([{ step: 'nope' }] as never)).toThrow(/`steps\[0\]\.step`/);
    expect(() => saga([{ step: (n: number) => n }])).toThrow(/`steps\[0\]\.name`/);
    expect(() => saga([{ step: a, compensate: 'undo' as never }])).toThrow(/`steps\[0\]\.compensate`/);
    expect(() => saga([{ step: a, retry: { retries: -1 } }])).toThrow(/`steps\[0\]\.retry\.retries`/);
    expect(() => saga([{ step: a }], { compensationRetry: { delayMs: 'soon' as never } })).toThrow(/`compensationRetry\.delayMs`/);
    expect(() => saga([{ step: a }], { compensationTimeoutMs: -1 })).toThrow(/`compensationTimeoutMs`/);
    expect(() => saga([{ step: a }], { leaseMs: 0 })).toThrow(/`leaseMs`/);
    expect(() => saga([{ step: a }], { log: {} as never })).toThrow(/`log`/);
    expect(() => saga([{ step: a }], { name: 'bad name' })).toThrow(/`name`/);
    expect(() => saga([{ step: a }], { id: 'x' as never })).toThrow(/`id`/);
    expect(() => saga([{ step: a }], 'x' as never)).toThrow(/`options`/);
    expect(() => new MemorySagaLog({ retainFinished: 1.5 })).toThrow(/`retainFinished`/);
    await expect(recoverSagas(a)).rejects.toThrow(/`saga`/);
    await expect(recoverSagas(saga([{ step: a }]), { olderThanMs: -1 })).rejects.toThrow(/`olderThanMs`/);
    await expect(saga([{ step: a }], { id: () => '' }).run(1)).rejects.toThrow(/`id`/);
  });
});
