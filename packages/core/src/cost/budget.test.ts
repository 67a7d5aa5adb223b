import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { step } from '../step/step.js';
import { sequence } from '../composition/sequence.js';
import { parallel } from '../composition/parallel.js';
import { events } from '../events/event-stream.js';
import type { BudgetEvent, BudgetStoreErrorEvent, WeftEvent } from '../events/event-types.js';
import { BudgetExceededError, isBudgetExceededError } from '../errors/budget-exceeded-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { budget } from './budget.js';
import type { BudgetCharge, BudgetStore } from './budget-store.js';
import { LocalBudgetStore } from './local-budget-store.js';
import { recordCost } from './record-cost.js';
import { cost } from './cost.js';
import { getLedger } from './ledger.js';

const HOUR = 3_600_000;

/** A step that records `amount` and counts its calls. */
function spender(name: string, amount: number) {
  const calls = { n: 0 };
  const s = step(name, (_: unknown, ctx) => {
    calls.n++;
    recordCost(ctx, { amount });
    return amount;
  });
  return { s, calls };
}

function capture() {
  const seen: WeftEvent[] = [];
  const sub = events.subscribe((e) => {
    if (e.type.startsWith('budget.')) seen.push(e);
  });
  return {
    seen,
    of: <T extends BudgetEvent['type'] | 'budget.store_error'>(type: T): Array<T extends 'budget.store_error' ? BudgetStoreErrorEvent : BudgetEvent> =>
      seen.filter((e) => e.type === type) as Array<T extends 'budget.store_error' ? BudgetStoreErrorEvent : BudgetEvent>,
    stop: () => sub.unsubscribe(),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

/** Dollars as the integer nano-units a BudgetStore holds. */
const usd = (dollars: number): number => Math.round(dollars * 1e9);

describe('budget per run', () => {
  it('blocks the step before it runs once the run has spent its budget', async () => {
    const { s: pricey, calls } = spender('pricey', 4);
    const guarded = budget(pricey, { name: 'per-run', perRun: 10 });
    const ev = capture();
    try {
      const flow = sequence(guarded, guarded, guarded, guarded);
      const error = await flow.run(undefined).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BudgetExceededError);
      expect(isBudgetExceededError(error)).toBe(true);
      const b = error as BudgetExceededError;
      expect([b.budget, b.limit, b.spent]).toEqual(['per-run', 10, 12]);
      expect(calls.n).toBe(3); // 4 + 4 + 4 = 12 >= 10: the fourth never ran
      expect(ev.of('budget.exceeded')).toHaveLength(1);
      expect(ev.of('budget.exceeded')[0]).toMatchObject({ budget: 'per-run', scope: 'run', spent: 12, limit: 10, utilisation: 1.2, primitive: 'budget' });
    } finally {
      ev.stop();
    }
    // a new run starts from zero
    calls.n = 0;
    await expect(guarded.run(undefined)).resolves.toBe(4);
    expect(calls.n).toBe(1);
  });

  it('refuses a call whose estimate does not fit what is left', async () => {
    const { s, calls } = spender('llm', 1);
    const guarded = budget(s, { name: 'est', perRun: 10, estimate: (n: unknown) => n as number });
    const flow = sequence(step('spend', (n: number, ctx) => {
      recordCost(ctx, { amount: 7 });
      return n;
    }), guarded);
    await expect(flow.run(3)).resolves.toBe(1);
    await expect(flow.run(4)).rejects.toThrow(/Budget "est" exhausted per run: spent 7 of 10, and this call's estimate of 4 does not fit/);
    expect(calls.n).toBe(1);
  });

  it('counts the estimates of calls in flight, so parallel branches cannot all pass one check', async () => {
    let ran = 0;
    const slow = step('slow', async (_: unknown, ctx) => {
      ran++;
      await new Promise((r) => setTimeout(r, 5));
      recordCost(ctx, { amount: 4 });
    });
    const guarded = budget(slow, { name: 'fanout', perRun: 10, estimate: 4 });
    const error = await parallel([guarded, guarded, guarded]).run(undefined).catch((e: unknown) => e);
    expect(isBudgetExceededError(error)).toBe(true);
    expect((error as BudgetExceededError).spent).toBe(8); // two in flight, reserved
    expect(ran).toBe(2);
  });

  it('warns once per run when the run crosses warnAt, and reports usage', async () => {
    const { s } = spender('step', 3);
    const guarded = budget(s, { name: 'warn-run', perRun: 10, warnAt: 0.5 });
    const ev = capture();
    try {
      await sequence(guarded, guarded, guarded).run(undefined); // 3, 6 (crosses 5), 9
      expect(ev.of('budget.warning')).toHaveLength(1);
      expect(ev.of('budget.warning')[0]).toMatchObject({ scope: 'run', spent: 6, limit: 10, utilisation: 0.6 });
      expect(ev.of('budget.usage').map((e) => e.spent)).toEqual([3, 6, 9]);
      await sequence(guarded, guarded).run(undefined); // a new run warns again
      expect(ev.of('budget.warning')).toHaveLength(2);
    } finally {
      ev.stop();
    }
  });
});

describe('budget over a rolling window', () => {
  it('blocks the step before it runs when the window is spent, across runs', async () => {
    const store = new LocalBudgetStore();
    const { s, calls } = spender('llm', 4);
    const guarded = budget(s, { name: 'daily', window: { limit: 10, windowMs: HOUR }, store });
    await guarded.run(undefined);
    await guarded.run(undefined);
    await guarded.run(undefined); // 12: the store saw 8 < 10 before it
    const error = await guarded.run(undefined).catch((e: unknown) => e);
    expect(isBudgetExceededError(error)).toBe(true);
    expect((error as BudgetExceededError).spent).toBe(12);
    expect((error as Error).message).toMatch(/exhausted in its window/);
    expect(calls.n).toBe(3);
  });

  it('reconciles the estimate with the cost actually recorded during the call', async () => {
    const store = new LocalBudgetStore();
    const now = Date.now();
    const cheap = budget(spender('cheap', 2).s, { name: 'rec', window: { limit: 100, windowMs: HOUR }, estimate: 5, store });
    await cheap.run(undefined);
    expect(store.spent('rec', HOUR, now + 10)).toBe(usd(2));
    const dear = budget(spender('dear', 8).s, { name: 'rec', window: { limit: 100, windowMs: HOUR }, estimate: 5, store });
    await dear.run(undefined);
    expect(store.spent('rec', HOUR, now + 10)).toBe(usd(10));
    const failing = budget(step('fails', (_: unknown, ctx) => {
      recordCost(ctx, { amount: 1 });
      throw new Error('parse failed');
    }), { name: 'rec', window: { limit: 100, windowMs: HOUR }, estimate: 5, store });
    await expect(failing.run(undefined)).rejects.toThrow('parse failed');
    expect(store.spent('rec', HOUR, now + 10)).toBe(usd(11)); // a failed call's recorded cost still counts
  });

  it('charges only costs recorded inside the budgeted call, not a sibling\'s', async () => {
    const store = new LocalBudgetStore();
    const mine = budget(step('mine', async (_: unknown, ctx) => {
      await new Promise((r) => setTimeout(r, 5));
      recordCost(ctx, { amount: 1 });
    }), { name: 'sib', window: { limit: 100, windowMs: HOUR }, store });
    const sibling = step('sibling', async (_: unknown, ctx) => {
      await new Promise((r) => setTimeout(r, 1));
      recordCost(ctx, { amount: 50 });
    });
    const total = await sequence(parallel([mine, sibling]), step('total', (_: unknown, ctx) => getLedger(ctx).total)).run(undefined);
    expect(total).toBe(51);
    expect(store.spent('sib', HOUR, Date.now())).toBe(usd(1));
  });

  it('charges what cost() extracts inside it, and every nested budget', async () => {
    const store = new LocalBudgetStore();
    const chat = step('chat', () => ({ model: 'gpt-4o', usage: { prompt_tokens: 1_000_000, completion_tokens: 100_000 } }));
    const inner = budget(cost(chat), { name: 'inner', window: { limit: 100, windowMs: HOUR }, estimate: 1, store });
    const outer = budget(sequence(inner, step('more', (_: unknown, ctx) => recordCost(ctx, { amount: 0.5 }))), { name: 'outer', window: { limit: 100, windowMs: HOUR }, store });
    await outer.run(undefined);
    expect(store.spent('inner', HOUR, Date.now())).toBe(usd(3.5));
    expect(store.spent('outer', HOUR, Date.now())).toBe(usd(4));
  });

  it('lets spend expire after the window (fake timers)', async () => {
    vi.useFakeTimers({ now: 0 });
    const store = new LocalBudgetStore({ buckets: 60 });
    const { s, calls } = spender('llm', 5);
    const guarded = budget(s, { name: 'roll', window: { limit: 10, windowMs: HOUR }, store });
    await guarded.run(undefined);
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    await guarded.run(undefined);
    await expect(guarded.run(undefined)).rejects.toThrow(BudgetExceededError);
    await vi.advanceTimersByTimeAsync(30 * 60_000 - 1); // 1 ms short of an hour after the first charge
    await expect(guarded.run(undefined)).rejects.toThrow(BudgetExceededError);
    await vi.advanceTimersByTimeAsync(60_000 + 1); // the first charge has left the window
    await expect(guarded.run(undefined)).resolves.toBe(5);
    expect(calls.n).toBe(3);
    await expect(guarded.run(undefined)).rejects.toThrow(BudgetExceededError);
  });

  it('warns exactly once per upward crossing of warnAt, again after the window drains', async () => {
    vi.useFakeTimers({ now: 0 });
    const store = new LocalBudgetStore();
    const { s } = spender('llm', 3);
    const guarded = budget(s, { name: 'warn-win', window: { limit: 10, windowMs: HOUR }, store });
    const ev = capture();
    try {
      await guarded.run(undefined); // 3
      await guarded.run(undefined); // 6
      expect(ev.of('budget.warning')).toHaveLength(0);
      await guarded.run(undefined); // 9 >= 8
      expect(ev.of('budget.warning')).toHaveLength(1);
      expect(ev.of('budget.warning')[0]).toMatchObject({ budget: 'warn-win', scope: 'window', spent: 9, limit: 10, utilisation: 0.9 });
      await guarded.run(undefined); // 9 < 10 and the estimate 0 fits: runs, 12
      await expect(guarded.run(undefined)).rejects.toThrow(BudgetExceededError);
      expect(ev.of('budget.warning')).toHaveLength(1);
      expect(ev.of('budget.usage').map((e) => e.spent)).toEqual([3, 6, 9, 12]);
      expect(ev.of('budget.exceeded')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(2 * HOUR);
      await guarded.run(undefined);
      await guarded.run(undefined);
      expect(ev.of('budget.warning')).toHaveLength(1);
      await guarded.run(undefined);
      expect(ev.of('budget.warning')).toHaveLength(2);
    } finally {
      ev.stop();
    }
  });

  it('warns when the reservation itself crosses the threshold', async () => {
    const store = new LocalBudgetStore();
    const guarded = budget(spender('llm', 0).s, { name: 'warn-est', window: { limit: 10, windowMs: HOUR }, estimate: 9, store });
    const ev = capture();
    try {
      await guarded.run(undefined);
      expect(ev.of('budget.warning')).toHaveLength(1);
      expect(ev.of('budget.warning')[0]!.spent).toBe(9);
      expect(ev.of('budget.usage').at(-1)!.spent).toBe(0); // refunded to the actual 0
    } finally {
      ev.stop();
    }
  });

  it('combines a per-run and a window limit', async () => {
    const store = new LocalBudgetStore();
    const { s, calls } = spender('llm', 3);
    const guarded = budget(s, { name: 'both', perRun: 5, window: { limit: 8, windowMs: HOUR }, store });
    await expect(sequence(guarded, guarded, guarded).run(undefined)).rejects.toMatchObject({ limit: 5, spent: 6 });
    expect(calls.n).toBe(2);
    await guarded.run(undefined); // the window saw 6 < 8: runs, 9
    await expect(guarded.run(undefined)).rejects.toMatchObject({ limit: 8, spent: 9 });
    expect(calls.n).toBe(3);
  });
});

describe('budget per key', () => {
  it('keeps a separate window for each key, under the same limit', async () => {
    const store = new LocalBudgetStore();
    const { s, calls } = spender('llm', 4);
    const guarded = budget(s, { name: 'daily', window: { limit: 10, windowMs: HOUR }, store, key: (who: unknown) => String(who) });
    for (let i = 0; i < 3; i++) await guarded.run('alice');
    const error = await guarded.run('alice').catch((e: unknown) => e);
    expect(isBudgetExceededError(error)).toBe(true);
    expect((error as BudgetExceededError).budget).toBe('daily');
    expect((error as Error).message).toMatch(/Budget "daily" for key "alice" exhausted in its window: spent 12 of 10/);
    // bob has his own allowance
    await expect(guarded.run('bob')).resolves.toBe(4);
    expect(calls.n).toBe(4);
    const now = Date.now();
    expect(store.spent('daily:alice', HOUR, now)).toBe(usd(12));
    expect(store.spent('daily:bob', HOUR, now)).toBe(usd(4));
    expect(store.spent('daily', HOUR, now)).toBe(usd(0));
  });

  it('charges the reconciled cost and refunds to the key the call was reserved under', async () => {
    const keys: string[] = [];
    const local = new LocalBudgetStore();
    const store: BudgetStore = {
      tryCharge: (key, amount, limit, windowMs, now) => {
        keys.push(`try ${key}`);
        return local.tryCharge(key, amount, limit, windowMs, now);
      },
      charge: (key, amount, windowMs, at, now) => {
        keys.push(`charge ${key} ${amount}`);
        return local.charge(key, amount, windowMs, at, now);
      },
      spent: (key, windowMs, now) => local.spent(key, windowMs, now),
    };
    const guarded = budget(spender('llm', 2).s, { name: 'k', window: { limit: 100, windowMs: HOUR }, estimate: 5, store, key: (_: unknown, ctx) => String(ctx.attributes.tenant) });
    await guarded.run(undefined, { attributes: { tenant: 't1' } });
    expect(keys).toEqual(['try k:t1', `charge k:t1 ${usd(-3)}`]);
    expect(local.spent('k:t1', HOUR, Date.now())).toBe(usd(2));
  });

  it('reports events under the plain budget name, so metric labels stay bounded', async () => {
    const ev = capture();
    try {
      const guarded = budget(spender('llm', 6).s, { name: 'perkey', window: { limit: 10, windowMs: HOUR }, store: new LocalBudgetStore(), key: (k: unknown) => String(k) });
      await guarded.run('a');
      await guarded.run('a');
      await guarded.run('a').catch(() => undefined);
      expect(ev.seen.length).toBeGreaterThan(0);
      expect(new Set(ev.seen.map((e) => (e as BudgetEvent).budget))).toEqual(new Set(['perkey']));
      expect(ev.of('budget.exceeded')).toHaveLength(1);
    } finally {
      ev.stop();
    }
  });

  it('rejects the call, without running it, when key() returns a bad value or throws', async () => {
    const { s, calls } = spender('llm', 1);
    const win = { limit: 10, windowMs: HOUR };
    await expect(budget(s, { name: 'b', window: win, key: () => '' }).run(undefined)).rejects.toThrow(/Expected `key` to be a function returning a string of 1-200 characters/);
    await expect(budget(s, { name: 'b', window: win, key: () => 42 as never }).run(undefined)).rejects.toThrow(/`key`/);
    await expect(budget(s, { name: 'b', window: win, key: () => 'x'.repeat(201) }).run(undefined)).rejects.toThrow(/`key`/);
    await expect(budget(s, { name: 'b', window: win, key: () => {
      throw new Error('no key');
    } }).run(undefined)).rejects.toThrow('no key');
    expect(calls.n).toBe(0);
  });

  it('throws TypeErrors naming the option when key is not a function or has no window', () => {
    const s = step('s', () => 1);
    expect(() => budget(s, { name: 'b', window: { limit: 1, windowMs: 1000 }, key: 'alice' as never })).toThrow(/`key`/);
    expect(() => budget(s, { name: 'b', perRun: 1, key: () => 'a' })).toThrow(/`window`/);
  });
});

describe('budget store failures', () => {
  const hanging = (): BudgetStore => ({
    tryCharge: () => new Promise<BudgetCharge>(() => {}),
    charge: () => new Promise<number>(() => {}),
    spent: () => 0,
  });

  it('fails closed when the store throws: the step does not run', async () => {
    const store: BudgetStore = {
      tryCharge: () => {
        throw new Error('redis down');
      },
      charge: () => 0,
      spent: () => 0,
    };
    const { s, calls } = spender('llm', 1);
    const ev = capture();
    try {
      const error = await budget(s, { name: 'closed', window: { limit: 10, windowMs: HOUR }, store }).run(undefined).catch((e: unknown) => e);
      expect(isBudgetExceededError(error)).toBe(true);
      expect((error as Error).message).toMatch(/could not be checked: its store failed \(redis down\)/);
      expect(((error as Error).cause as Error).message).toBe('redis down');
      expect((error as BudgetExceededError).spent).toBeNaN();
      expect(calls.n).toBe(0);
      expect(ev.of('budget.store_error')).toHaveLength(1);
      expect(ev.of('budget.store_error')[0]).toMatchObject({ budget: 'closed', failOpen: false, operation: 'reserve', reason: 'error' });
    } finally {
      ev.stop();
    }
  });

  it('fails closed when the store rejects or answers nonsense', async () => {
    const rejecting: BudgetStore = { tryCharge: () => Promise.reject(new Error('nope')), charge: () => 0, spent: () => 0 };
    const nonsense: BudgetStore = { tryCharge: () => 'yes' as never, charge: () => 0, spent: () => 0 };
    const { s, calls } = spender('llm', 1);
    await expect(budget(s, { name: 'rej', window: { limit: 10, windowMs: HOUR }, store: rejecting }).run(undefined)).rejects.toThrow(/its store failed \(nope\)/);
    await expect(budget(s, { name: 'nonsense', window: { limit: 10, windowMs: HOUR }, store: nonsense }).run(undefined)).rejects.toThrow(BudgetExceededError);
    expect(calls.n).toBe(0);
  });

  it('fails closed when the store hangs past storeTimeoutMs, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const { s, calls } = spender('llm', 1);
    const p = budget(s, { name: 'hang', window: { limit: 10, windowMs: HOUR }, store: hanging(), storeTimeoutMs: 250 }).run(undefined);
    const settled = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(249);
    expect(calls.n).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    const error = await settled;
    expect(isBudgetExceededError(error)).toBe(true);
    expect((error as Error).message).toMatch(/did not answer within 250 ms/);
    expect(isTimeoutError((error as Error).cause)).toBe(true);
    expect(calls.n).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails open with failOpen: true, still charging the actual cost', async () => {
    let charged = 0;
    const store: BudgetStore = {
      tryCharge: () => Promise.reject(new Error('flaky')),
      charge: (_k, amount) => (charged += amount),
      spent: () => charged,
    };
    const { s, calls } = spender('llm', 2);
    const ev = capture();
    try {
      await expect(budget(s, { name: 'open', window: { limit: 10, windowMs: HOUR }, store, failOpen: true, estimate: 1 }).run(undefined)).resolves.toBe(2);
      expect(calls.n).toBe(1);
      expect(charged).toBe(usd(2));
      expect(ev.of('budget.store_error')[0]).toMatchObject({ budget: 'open', failOpen: true, operation: 'reserve', reason: 'error' });
    } finally {
      ev.stop();
    }
  });

  it('serves from a bounded local allowance while the store is down, per key, then refuses, and counts each decision', async () => {
    let down = true;
    const shared = new LocalBudgetStore();
    const store: BudgetStore = {
      tryCharge: (...a) => (down ? Promise.reject(new Error('ECONNREFUSED')) : shared.tryCharge(...a)),
      charge: (...a) => (down ? Promise.reject(new Error('ECONNREFUSED')) : shared.charge(...a)),
      spent: (...a) => shared.spent(...a),
    };
    const { s, calls } = spender('llm', 0.3);
    const guarded = budget(s, { name: 'degraded', window: { limit: 100, windowMs: HOUR }, key: (who: string) => who, store, estimate: 0.5, localAllowance: 1.2 });
    const ev = capture();
    try {
      // Key a: an allowance of $1.20; each $0.50 reservation settles to its actual $0.30, so the
      // third fits ($0.60 + $0.50 <= $1.20), the fourth does not ($0.90 + $0.50 > $1.20).
      const a = [];
      for (let i = 0; i < 4; i++) a.push(await guarded.run('a').then(() => 'served', (e: unknown) => (isBudgetExceededError(e) ? 'refused' : 'other')));
      expect(a).toEqual(['served', 'served', 'served', 'refused']);
      // Key b has its own allowance.
      await expect(guarded.run('b')).resolves.toBe(0.3);
      expect(calls.n).toBe(4);
      const decisions = ev.of('budget.store_error').map((e) => e.decision);
      expect(decisions).toEqual(['allowance', 'allowance', 'allowance', 'refused', 'allowance']);
      const refusal = await guarded.run('a').catch((e: unknown) => e);
      expect((refusal as BudgetExceededError).spent).toBeNaN();
      expect((refusal as Error).message).toMatch(/local allowance of 1.2 is spent/);
      // Back up: the shared store decides again, and nothing spent locally was charged to it.
      down = false;
      await expect(guarded.run('a')).resolves.toBe(0.3);
      expect(shared.spent('degraded:a', HOUR, Date.now())).toBe(usd(0.3));
    } finally {
      ev.stop();
    }
  });

  it('rejects localAllowance with failOpen or without a window, naming the option', () => {
    const { s } = spender('llm', 1);
    expect(() => budget(s, { name: 'x', window: { limit: 1, windowMs: HOUR }, failOpen: true, localAllowance: 1 })).toThrow(/`localAllowance`/);
    expect(() => budget(s, { name: 'x', perRun: 1, localAllowance: 1 })).toThrow(/`window`/);
    expect(() => budget(s, { name: 'x', window: { limit: 1, windowMs: HOUR }, localAllowance: -1 })).toThrow(TypeError);
  });

  it('fails open on a hanging store and refunds a reservation that answers late', async () => {
    vi.useFakeTimers();
    let answer: ((c: BudgetCharge) => void) | undefined;
    const charges: number[] = [];
    const store: BudgetStore = {
      tryCharge: () => new Promise<BudgetCharge>((r) => (answer = r)),
      charge: (_k, amount) => {
        charges.push(amount);
        return 0;
      },
      spent: () => 0,
    };
    const { s, calls } = spender('llm', 2);
    const p = budget(s, { name: 'late', window: { limit: 10, windowMs: HOUR }, store, failOpen: true, estimate: 3, storeTimeoutMs: 100 }).run(undefined);
    await vi.advanceTimersByTimeAsync(100);
    await expect(p).resolves.toBe(2);
    expect(calls.n).toBe(1);
    expect(charges).toEqual([usd(2)]);
    answer!({ allowed: true, spent: usd(3) });
    await vi.advanceTimersByTimeAsync(0);
    expect(charges).toEqual([usd(2), usd(-3)]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never fails a finished call when charging its actual cost fails', async () => {
    const store: BudgetStore = {
      tryCharge: (_k, amount) => ({ allowed: true, spent: amount }),
      charge: () => {
        throw new Error('write failed');
      },
      spent: () => 0,
    };
    const ev = capture();
    try {
      await expect(budget(spender('llm', 2).s, { name: 'charge-fail', window: { limit: 10, windowMs: HOUR }, store }).run(undefined)).resolves.toBe(2);
      expect(ev.of('budget.store_error')[0]).toMatchObject({ budget: 'charge-fail', operation: 'charge', reason: 'error' });
    } finally {
      ev.stop();
    }
  });

  it('bounds a hanging charge after the call by storeTimeoutMs too', async () => {
    vi.useFakeTimers();
    const store: BudgetStore = { tryCharge: (_k, amount) => ({ allowed: true, spent: amount }), charge: () => new Promise<number>(() => {}), spent: () => 0 };
    const p = budget(spender('llm', 2).s, { name: 'charge-hang', window: { limit: 10, windowMs: HOUR }, store, storeTimeoutMs: 50 }).run(undefined);
    await vi.advanceTimersByTimeAsync(50);
    await expect(p).resolves.toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops waiting for the store when the run is aborted', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const { s, calls } = spender('llm', 1);
    const p = budget(s, { name: 'abort', window: { limit: 10, windowMs: HOUR }, store: hanging() }).run(undefined, { signal: controller.signal });
    const settled = p.catch((e: unknown) => e);
    controller.abort(new Error('client left'));
    expect(isAbortedError(await settled)).toBe(true);
    expect(calls.n).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('budget options', () => {
  it('keeps the primitive\'s name and has kind budget', () => {
    const guarded = budget(step('llm', () => 1), { name: 'b', perRun: 1 });
    expect([guarded.name, guarded.kind]).toEqual(['llm', 'budget']);
  });

  it('throws TypeErrors naming the bad option', () => {
    const s = step('s', () => 1);
    const win = { limit: 1, windowMs: 1000 };
    expect(() => budget({} as never, { name: 'b', perRun: 1 })).toThrow(/`primitive`/);
    expect(() => budget(s, undefined as never)).toThrow(/`options`/);
    expect(() => budget(s, { perRun: 1 } as never)).toThrow(/`name`/);
    expect(() => budget(s, { name: 'has space', perRun: 1 })).toThrow(/`name`/);
    expect(() => budget(s, { name: 'b' })).toThrow(/`perRun`/);
    expect(() => budget(s, { name: 'b', perRun: 0 })).toThrow(/`perRun`/);
    expect(() => budget(s, { name: 'b', perRun: -1 })).toThrow(/`perRun`/);
    expect(() => budget(s, { name: 'b', window: 5 as never })).toThrow(/`window`/);
    expect(() => budget(s, { name: 'b', window: { limit: 0, windowMs: 1000 } })).toThrow(/`window.limit`/);
    expect(() => budget(s, { name: 'b', window: { windowMs: 1000 } as never })).toThrow(/`window.limit`/);
    expect(() => budget(s, { name: 'b', window: { limit: 1, windowMs: 0 } })).toThrow(/`window.windowMs`/);
    expect(() => budget(s, { name: 'b', window: { limit: 1, windowMs: 1.5 } })).toThrow(/`window.windowMs`/);
    expect(() => budget(s, { name: 'b', window: win, estimate: -1 })).toThrow(/`estimate`/);
    expect(() => budget(s, { name: 'b', window: win, estimate: 'a lot' as never })).toThrow(/`estimate`/);
    expect(() => budget(s, { name: 'b', window: win, warnAt: 1.5 })).toThrow(/`warnAt`/);
    expect(() => budget(s, { name: 'b', window: win, warnAt: 0 })).toThrow(/`warnAt`/);
    expect(() => budget(s, { name: 'b', window: win, storeTimeoutMs: 0 })).toThrow(/`storeTimeoutMs`/);
    expect(() => budget(s, { name: 'b', window: win, failOpen: 'yes' as never })).toThrow(/`failOpen`/);
    expect(() => budget(s, { name: 'b', window: win, store: {} as never })).toThrow(/`store`/);
    expect(() => budget(s, { name: 'b', perRun: 1, store: new LocalBudgetStore() })).toThrow(/`window`/);
  });

  it('rejects the call, without running it, when estimate() returns a bad value', async () => {
    const { s, calls } = spender('llm', 1);
    await expect(budget(s, { name: 'b', perRun: 5, estimate: () => Number.NaN }).run(undefined)).rejects.toThrow(/`estimate`/);
    await expect(budget(s, { name: 'b', perRun: 5, estimate: () => {
      throw new Error('cannot estimate');
    } }).run(undefined)).rejects.toThrow('cannot estimate');
    expect(calls.n).toBe(0);
  });
});

describe('budget under any concurrency', () => {
  it('never lets settled spend pass the limit when each call reserves its worst case, and settles each to its actual cost', async () => {
    // A call: its worst case (what it reserves), the share of it actually spent, how many turns of the
    // event loop it takes, and whether it fails after spending.
    const call = fc.record({ worst: fc.integer({ min: 1, max: 400 }), share: fc.double({ min: 0, max: 1, noNaN: true }), turns: fc.integer({ min: 0, max: 20 }), fails: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 40 }), fc.integer({ min: 100, max: 2_000 }), async (calls, limitMilli) => {
        const store = new LocalBudgetStore();
        const limit = limitMilli / 1000;
        const llm = step('llm', async (input: { worst: number; share: number; turns: number; fails: boolean }, ctx) => {
          for (let i = 0; i < input.turns; i++) await Promise.resolve();
          const actual = Math.floor(input.worst * input.share) / 1000;
          recordCost(ctx, { amount: actual });
          if (input.fails) throw new Error('failed after spending');
          return actual;
        });
        const guarded = budget(llm, { name: 'prop', window: { limit, windowMs: HOUR }, store, estimate: (input) => input.worst / 1000 });
        const results = await Promise.allSettled(calls.map((c) => guarded.run(c)));
        const spent = store.spent('prop', HOUR, Date.now());
        const ran = calls.filter((_, i) => !isBudgetExceededError((results[i] as PromiseRejectedResult).reason));
        const actual = ran.reduce((n, c) => n + usd(Math.floor(c.worst * c.share) / 1000), 0);
        expect(spent).toBeLessThanOrEqual(usd(limit));
        expect(spent).toBe(actual); // settled to what was spent; the rest of each reservation released
      }),
      { numRuns: 300 },
    );
  });
});
