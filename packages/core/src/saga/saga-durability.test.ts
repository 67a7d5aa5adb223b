import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Subscription } from 'rxjs';
import { useClock } from '../clock/clock.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { isSagaConflictError, SagaConflictError } from '../errors/saga-conflict-error.js';
import { manualClock } from '../test-support/manual-clock.js';
import { step } from '../step/step.js';
import '../retry/index.js';
import { recoverSagas, saga, superviseSagas } from './saga.js';
import { MemorySagaLog, type SagaLog } from './saga-log.js';

/**
 * The promises a crash tests: write-ahead intents with stable idempotency keys, leases that fence
 * writes and lapse only when their owner stops renewing, takeover that resumes forward or goes on
 * compensating, and one execution per ID. A remote "service" here is a map keyed by idempotency
 * key, as a payment API keeps one, so duplicated effects are counted, not assumed.
 */
let restore: (() => void) | undefined;
let clock: ReturnType<typeof manualClock>;
let subscription: Subscription | undefined;
beforeEach(() => {
  clock = manualClock();
  restore = useClock(clock);
});
afterEach(() => {
  restore?.();
  subscription?.unsubscribe();
});

/** A remote service that honours idempotency keys and keeps a journal of effects. */
function service() {
  const byKey = new Map<string, { id: string; state: 'done' | 'undone' | 'tombstone' }>();
  const journal: string[] = [];
  let n = 0;
  return {
    journal,
    byKey,
    /** The forward call: a repeat of a key returns the first result; a key already undone is refused. */
    do(key: string, what: string): string {
      const seen = byKey.get(key);
      if (seen?.state === 'tombstone') throw new Error(`${key} was cancelled`);
      if (seen) return seen.id;
      const id = `${what}_${++n}`;
      byKey.set(key, { id, state: 'done' });
      journal.push(`${what} ${id}`);
      return id;
    },
    /** Undo by key: tolerates "nothing to undo" by leaving a tombstone that refuses a late forward call. */
    undo(key: string, what: string): void {
      const seen = byKey.get(key);
      if (seen === undefined) byKey.set(key, { id: '', state: 'tombstone' });
      else if (seen.state === 'done') {
        seen.state = 'undone';
        journal.push(`undo-${what} ${seen.id}`);
      }
    },
  };
}

/** Resolves with the call's result, or rejects when the signal aborts (the client gives up; the service may still do the work). */
function call<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    work.then(resolve, reject);
  });
}

function orderSaga(log: SagaLog, svc: ReturnType<typeof service>, hooks: { charge?: (key: string) => Promise<void> } = {}) {
  return saga(
    [
      {
        name: 'reserve',
        step: (o: { id: string; card: string }, ctx) => ({ ...o, reservation: svc.do(ctx.idempotencyKey!, 'reserve') }),
        compensate: ({ idempotencyKey }) => svc.undo(idempotencyKey, 'reserve'),
      },
      {
        name: 'charge',
        step: async (o: { id: string; card: string; reservation: string }, ctx) => {
          const key = ctx.idempotencyKey!;
          const charged = (hooks.charge?.(key) ?? Promise.resolve()).then(() => svc.do(key, 'charge'));
          charged.catch(() => {});
          return { ...o, charge: await call(charged, ctx.signal) };
        },
        compensate: ({ idempotencyKey }) => svc.undo(idempotencyKey, 'charge'),
      },
    ],
    { name: 'order', log, id: (o) => o.id, leaseMs: 1_000, persist: { input: ({ card, ...rest }) => ({ ...rest, last4: card.slice(-4) }), output: (o) => ({ ...(o as object), card: undefined }) } },
  );
}

function gate() {
  let open!: () => void;
  let reached!: () => void;
  const atGate = new Promise<void>((r) => (reached = r));
  const opened = new Promise<void>((r) => (open = r));
  return { atGate, open, wait: () => (reached(), opened) };
}

describe('saga write-ahead and idempotency keys', () => {
  it('logs the intent before calling a step, with a key that stays the same across retries', async () => {
    const log = new MemorySagaLog();
    const keys: string[] = [];
    let attempts = 0;
    const flaky = step('flaky', (n: number, ctx) => {
      keys.push(ctx.idempotencyKey!);
      if (++attempts < 3) throw new Error('blip');
      return n;
    }).retry({ retries: 3, minDelay: 0, maxDelay: 0 });
    let seenInLog: unknown;
    const flow = saga(
      [
        { step: step('first', async (n: number) => ((seenInLog = (await log.get('keys', 'k1'))?.entries.at(-1)), n)) },
        { step: flaky },
      ],
      { name: 'keys', log, id: () => 'k1' },
    );
    await flow.run(1);
    expect(seenInLog).toMatchObject({ type: 'intent', index: 0, step: 'first', key: 'k1:0:first' });
    expect(keys).toEqual(['k1:1:flaky', 'k1:1:flaky', 'k1:1:flaky']);
  });

  it('gives a compensation the forward key and the outcome, and its own ctx key', async () => {
    const seen: unknown[] = [];
    const flow = saga(
      [
        { name: 'a', step: (n: number) => n, compensate: (args, ctx) => void seen.push({ ...args, ctxKey: ctx.idempotencyKey }) },
        { name: 'b', step: (): number => { throw new Error('b failed'); }, compensate: (args, ctx) => void seen.push({ ...args, ctxKey: ctx.idempotencyKey }) },
      ],
      { id: () => 'c1' },
    );
    await expect(flow.run(3)).rejects.toThrow('b failed');
    expect(seen).toEqual([
      { input: 3, output: undefined, outcome: 'unknown', idempotencyKey: 'c1:1:b', ctxKey: 'c1:1:b:undo' },
      { input: 3, output: 3, outcome: 'completed', idempotencyKey: 'c1:0:a', ctxKey: 'c1:0:a:undo' },
    ]);
  });

  it('undoes a step that timed out but did its work late, by its key, and refuses the late call', async () => {
    const svc = service();
    const log = new MemorySagaLog();
    const slow = gate();
    const flow = orderSaga(log, svc, { charge: () => slow.wait() });
    const result = flow.run({ id: 'o-late', card: '4242424242424242' }, { timeout: 300 }).catch((e: unknown) => e);
    await slow.atGate;
    await clock.advance(300);
    expect((await result) as Error).toMatchObject({ name: 'TimeoutError' });
    // The charge arrives after its compensation: the service refuses it, nothing stays charged.
    slow.open();
    await clock.advance(1);
    expect(svc.journal).toEqual(['reserve reserve_1', 'undo-reserve reserve_1']);
    expect(svc.byKey.get('o-late:1:charge')?.state).toBe('tombstone');
  });

  it('keeps what persist maps away out of the log', async () => {
    const log = new MemorySagaLog();
    const svc = service();
    await orderSaga(log, svc).run({ id: 'o-pan', card: '4242424242424242' });
    const record = await log.get('order', 'o-pan');
    expect(JSON.stringify(record)).not.toContain('4242424242424242');
    expect(record?.entries[0]).toMatchObject({ type: 'started', input: { id: 'o-pan', last4: '4242' } });
  });
});

describe('one execution per saga ID', () => {
  it('replays a completed execution without calling a step, and refuses a compensated one with a typed error', async () => {
    const svc = service();
    const log = new MemorySagaLog();
    const flow = orderSaga(log, svc);
    const first = await flow.run({ id: 'o-1', card: '4242424242424242' });
    const again = await flow.run({ id: 'o-1', card: '4242424242424242' });
    expect(again).toEqual({ ...first, card: undefined });
    expect(svc.journal).toEqual(['reserve reserve_1', 'charge charge_2']);

    const failing = saga([{ name: 'x', step: (): number => { throw Object.assign(new Error('declined'), { code: 402 }); }, compensate: () => {} }], { log, name: 'declines', id: () => 'd-1' });
    await expect(failing.run(1)).rejects.toThrow('declined');
    const error = await failing.run(1).catch((e: unknown) => e);
    expect(isSagaConflictError(error)).toBe(true);
    expect(error).toMatchObject({ state: 'compensated', code: 'SAGA_CONFLICT', cause: { message: 'declined', code: 402 } });
  });

  it('runs five concurrent duplicates once: the others are told it is running', async () => {
    const svc = service();
    const log = new MemorySagaLog();
    const slow = gate();
    const flow = orderSaga(log, svc, { charge: () => slow.wait() });
    const runs = Array.from({ length: 5 }, () => flow.run({ id: 'o-dup', card: '4242424242424242' }).then((v) => v, (e: unknown) => e));
    await slow.atGate;
    slow.open();
    const results = await Promise.all(runs);
    const conflicts = results.filter((r) => r instanceof SagaConflictError);
    expect(conflicts).toHaveLength(4);
    expect(conflicts.every((c) => c.state === 'running')).toBe(true);
    expect(svc.journal).toEqual(['reserve reserve_1', 'charge charge_2']);
  });
});

describe('leases and takeover', () => {
  it('resumes an execution whose process died, re-calling the step in flight with the same key: no second effect', async () => {
    const seen: WeftEvent[] = [];
    subscription = events.subscribe((e) => e.type.startsWith('saga.') && seen.push(e));
    const svc = service();
    const log = new MemorySagaLog();
    // "Process 1" reserves, then its charge reaches the service but the process dies before logging it.
    svc.do('o-crash:1:charge', 'charge');
    await log.begin('order', 'o-crash', { type: 'started', at: 0, input: { id: 'o-crash', last4: '4242' }, owner: 'p1/x' }, { owner: 'p1/x', leaseMs: 1_000 });
    const reservation = svc.do('o-crash:0:reserve', 'reserve');
    const lease = { owner: 'p1/x', leaseMs: 1_000 };
    await log.append('order', 'o-crash', { type: 'intent', at: 0, index: 0, step: 'reserve', key: 'o-crash:0:reserve' }, lease);
    await log.append('order', 'o-crash', { type: 'step', at: 0, index: 0, step: 'reserve', output: { id: 'o-crash', reservation } }, lease);
    await log.append('order', 'o-crash', { type: 'intent', at: 0, index: 1, step: 'charge', key: 'o-crash:1:charge' }, lease);
    const flow = orderSaga(log, svc);
    // While its lease holds, the execution is someone else's.
    await expect(flow.run({ id: 'o-crash', card: '4242424242424242' })).rejects.toMatchObject({ state: 'running' });
    await clock.advance(1_001);
    // The job engine runs it again: it resumes forward, and the service answers the repeat with the first charge.
    const placed = await flow.run({ id: 'o-crash', card: '4242424242424242' });
    expect(placed).toMatchObject({ reservation: 'reserve_2', charge: 'charge_1' });
    expect(svc.journal).toEqual(['charge charge_1', 'reserve reserve_2']);
    expect(seen.map((e) => e.type)).toEqual(['saga.takeover', 'saga.finished']);
    expect(seen[0]).toMatchObject({ direction: 'resume' });
    expect((await log.get('order', 'o-crash'))?.entries.find((e) => e.type === 'takeover')).toMatchObject({ previous: 'p1/x', direction: 'resume' });
  });

  it('goes on compensating an execution killed mid-compensation, and rethrows its recorded error', async () => {
    const svc = service();
    const log = new MemorySagaLog();
    const lease = { owner: 'p1/x', leaseMs: 1_000 };
    await log.begin('order', 'o-k', { type: 'started', at: 0, input: { id: 'o-k' }, owner: 'p1/x' }, lease);
    svc.do('o-k:0:reserve', 'reserve');
    await log.append('order', 'o-k', { type: 'step', at: 0, index: 0, step: 'reserve', output: { id: 'o-k' } }, lease);
    await log.append('order', 'o-k', { type: 'intent', at: 0, index: 1, step: 'charge', key: 'o-k:1:charge' }, lease);
    await log.append('order', 'o-k', { type: 'compensating', at: 0, error: { name: 'ServiceError', message: 'declined', code: 402 } }, lease);
    await log.append('order', 'o-k', { type: 'compensated', at: 0, index: 1, step: 'charge', outcome: 'unknown' }, lease);
    await clock.advance(1_001);
    const error = await orderSaga(log, svc).run({ id: 'o-k', card: '4242424242424242' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ServiceError', message: 'declined', code: 402 });
    expect(svc.journal).toEqual(['reserve reserve_1', 'undo-reserve reserve_1']);
    expect((await log.get('order', 'o-k'))?.entries.at(-1)).toMatchObject({ type: 'finished', outcome: 'compensated' });
  });

  it('fences a live owner that lost its lease: it stops without compensating, the new owner undoes once', async () => {
    const svc = service();
    const inner = new MemorySagaLog();
    let partitioned = false;
    // This instance cannot reach the log to renew (a partition), so its lease lapses.
    const log: SagaLog = {
      begin: (...a) => inner.begin(...a),
      append: (...a) => inner.append(...a),
      claim: (s, id, lease) => (partitioned && lease.owner.startsWith('live') ? Promise.reject(new Error('unreachable')) : inner.claim(s, id, lease)),
      unfinished: (...a) => inner.unfinished(...a),
      get: (...a) => inner.get(...a),
    };
    const slow = gate();
    const live = saga(
      [
        { name: 'reserve', step: (o: { id: string }, ctx) => ({ ...o, r: svc.do(ctx.idempotencyKey!, 'reserve') }), compensate: ({ idempotencyKey }) => svc.undo(idempotencyKey, 'reserve') },
        { name: 'charge', step: async (o: { id: string }, ctx) => (await slow.wait(), { ...o, c: svc.do(ctx.idempotencyKey!, 'charge') }), compensate: ({ idempotencyKey }) => svc.undo(idempotencyKey, 'charge') },
      ],
      { name: 'fenced', log, id: (o) => o.id, leaseMs: 1_000, instance: 'live' },
    );
    const recoverer = saga([{ name: 'reserve', step: (o: { id: string }) => o, compensate: ({ idempotencyKey }) => svc.undo(idempotencyKey, 'reserve') }, { name: 'charge', step: (o: { id: string }) => o, compensate: ({ idempotencyKey }) => svc.undo(idempotencyKey, 'charge') }], { name: 'fenced', log, leaseMs: 1_000, instance: 'other' });
    const run = live.run({ id: 'f1' }).catch((e: unknown) => e);
    await slow.atGate;
    partitioned = true;
    await clock.advance(1_500);
    expect(await recoverSagas(recoverer)).toEqual([{ sagaId: 'f1', outcome: 'compensated', errors: [] }]);
    slow.open();
    const error = await run;
    expect(error).toMatchObject({ name: 'SagaConflictError', state: 'lease_lost' });
    // The late charge met the recoverer's tombstone; the reservation was undone once.
    expect(svc.journal).toEqual(['reserve reserve_1', 'undo-reserve reserve_1']);
  });

  it('superviseSagas compensates a dead execution within an interval, and stops cleanly', async () => {
    const svc = service();
    const log = new MemorySagaLog();
    const flow = orderSaga(log, svc);
    const lease = { owner: 'p1/x', leaseMs: 1_000 };
    await log.begin('order', 'o-s', { type: 'started', at: 0, input: { id: 'o-s' }, owner: 'p1/x' }, lease);
    await log.append('order', 'o-s', { type: 'intent', at: 0, index: 0, step: 'reserve', key: 'o-s:0:reserve' }, lease);
    svc.do('o-s:0:reserve', 'reserve');
    const recoveries: unknown[] = [];
    const supervisor = superviseSagas(flow, { intervalMs: 500, onRecovery: (r) => recoveries.push(...r) });
    await clock.advance(500);
    expect(recoveries).toEqual([]);
    await clock.advance(1_000);
    expect(recoveries).toEqual([{ sagaId: 'o-s', outcome: 'compensated', errors: [] }]);
    expect(svc.journal).toEqual(['reserve reserve_1', 'undo-reserve reserve_1']);
    await supervisor.stop();
    expect(clock.pending()).toBe(0);
  });

  it('rejects bad supervisor and saga options with TypeErrors naming them', () => {
    const flow = saga([{ name: 'a', step: (n: number) => n }]);
    expect(() => superviseSagas(flow, { intervalMs: 0 })).toThrow(/`intervalMs`/);
    expect(() => superviseSagas(flow, { onRecovery: 1 as never })).toThrow(/`onRecovery`/);
    expect(() => saga([{ name: 'a', step: (n: number) => n }], { instance: 'has space' })).toThrow(/`instance`/);
    expect(() => saga([{ name: 'a', step: (n: number) => n }], { persist: { inputs: () => 1 } as never })).toThrow(/`persist\.inputs`/);
    expect(() => saga([{ name: 'a', step: (n: number) => n }], { persist: { input: 1 } as never })).toThrow(/`persist\.input`/);
    vi.useRealTimers();
  });
});
