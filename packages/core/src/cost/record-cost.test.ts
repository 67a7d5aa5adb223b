import { describe, expect, it } from 'vitest';
import { step } from '../step/step.js';
import { sequence } from '../composition/sequence.js';
import { parallel } from '../composition/parallel.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { currentContext, type Ctx } from '../internal/ctx.js';
import { definePrimitive, type Primitive } from '../primitive.js';
import { recordCost } from './record-cost.js';
import { getLedger, ledgerOfRun, MAX_ENTRIES, type CostLedger } from './ledger.js';
import { createPriceTable } from './price-table.js';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

/** Runs `p` and returns its output with the run's ledger at the end. */
async function runWithLedger<I, O>(p: Primitive<I, O>, input: I): Promise<{ output: O; ledger: CostLedger }> {
  let runCtx: Ctx | undefined;
  const probe = definePrimitive<I, O>('probe', 'probe', (i, ctx) => {
    runCtx = ctx;
    return p.exec(i, ctx);
  });
  const output = await probe.run(input);
  return { output, ledger: ledgerOfRun(runCtx!.run) };
}

describe('recordCost and the run ledger', () => {
  it('records amounts and priced tokens, and sums them', async () => {
    const s = step('llm', (_: void, ctx) => {
      recordCost(ctx, { amount: 0.01 });
      recordCost(ctx, { model: 'gpt-4o-mini', inputTokens: 1_000_000, outputTokens: 1_000_000 });
      return getLedger(ctx);
    });
    const ledger = await s.run();
    expect(ledger.total).toBeCloseTo(0.01 + 0.15 + 0.6, 12);
    expect(ledger.currency).toBe('USD');
    expect(ledger.entries).toEqual([
      { step: 'llm', amount: 0.01 },
      { step: 'llm', model: 'gpt-4o-mini', amount: 0.75, inputTokens: 1_000_000, outputTokens: 1_000_000 },
    ]);
    expect(ledger.byStep).toEqual({ llm: ledger.total });
    expect(ledger.byModel).toEqual({ 'gpt-4o-mini': 0.75 });
    expect(Object.isFrozen(ledger) && Object.isFrozen(ledger.entries)).toBe(true);
  });

  it('works without ctx through currentContext(), across awaits', async () => {
    const s = step('later', async () => {
      await tick();
      recordCost({ model: 'claude-3-5-sonnet-20241022', inputTokens: 1_000, outputTokens: 0 });
      return getLedger();
    });
    const ledger = await s.run(undefined);
    expect(ledger.entries).toEqual([{ step: 'later', model: 'claude-3-5-sonnet', amount: 0.003, inputTokens: 1_000, outputTokens: 0 }]);
  });

  it('rolls up nested steps in sequence and parallel into one ledger per run', async () => {
    const a = step('a', (n: number, ctx) => {
      recordCost(ctx, { amount: 1 });
      return n;
    });
    const b = step('b', async (n: number) => {
      await tick(2);
      recordCost({ amount: 2, model: 'gpt-4o' });
      return n;
    });
    const c = step('c', async (n: number, ctx) => {
      await tick(1);
      recordCost(ctx, { amount: 4, model: 'gpt-4o' });
      recordCost(ctx, { amount: 8, model: 'claude-3-haiku' });
      return n;
    });
    const inner = sequence(a, parallel([b, c]));
    const flow = sequence(a, inner, step('d', (pair: [number, number], ctx) => {
      recordCost(ctx, { amount: 16 });
      return pair;
    }));
    const { ledger } = await runWithLedger(flow, 1);
    expect(ledger.total).toBe(1 + 1 + 2 + 4 + 8 + 16);
    expect(ledger.byStep).toEqual({ a: 2, b: 2, c: 12, d: 16 });
    expect(ledger.byModel).toEqual({ 'gpt-4o': 6, 'claude-3-haiku': 8 });
    expect(ledger.entries).toHaveLength(6);
  });

  it('keeps concurrent runs in separate ledgers', async () => {
    const s = step('work', async (amount: number) => {
      for (let i = 0; i < 5; i++) {
        await tick(Math.floor(Math.random() * 3));
        recordCost({ amount });
      }
      return getLedger().total;
    });
    const totals = await Promise.all([1, 10, 100, 1000].map((n) => s.run(n)));
    expect(totals).toEqual([5, 50, 500, 5000]);
  });

  it('gives an empty ledger for a run that recorded nothing', async () => {
    const { ledger } = await runWithLedger(step('free', (n: number) => n), 1);
    expect(ledger).toEqual({ total: 0, currency: 'USD', entries: [], droppedEntries: 0, byStep: {}, byModel: {} });
  });

  it('bounds the entries it keeps but keeps the sums exact', async () => {
    const s = step('many', (_: void, ctx) => {
      for (let i = 0; i < MAX_ENTRIES + 5; i++) recordCost(ctx, { amount: 1 });
      return getLedger(ctx);
    });
    const ledger = await s.run();
    expect(ledger.entries).toHaveLength(MAX_ENTRIES);
    expect(ledger.droppedEntries).toBe(5);
    expect(ledger.total).toBe(MAX_ENTRIES + 5);
  });

  it('prices with a custom table and attributes to a given step', async () => {
    const prices = createPriceTable({ 'my-finetune': { input: 10, output: 20 } });
    const s = step('x', (_: void, ctx) => recordCost(ctx, { model: 'my-finetune', inputTokens: 100_000, outputTokens: 50_000 }, { prices, step: 'rerank' }));
    expect(await s.run()).toEqual({ step: 'rerank', model: 'my-finetune', amount: 2, inputTokens: 100_000, outputTokens: 50_000 });
  });

  it('throws a RangeError for tokens of an unknown model and records nothing', async () => {
    const s = step('x', (_: void, ctx) => {
      let error: unknown;
      try {
        recordCost(ctx, { model: 'mystery-1', inputTokens: 5, outputTokens: 5 });
      } catch (e) {
        error = e;
      }
      return { error, total: getLedger(ctx).total };
    });
    const { error, total } = await s.run();
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/Unknown model "mystery-1"/);
    expect(total).toBe(0);
  });

  it('keeps a code-given model name on an amount even when the table does not know it', async () => {
    const s = step('x', (_: void, ctx) => recordCost(ctx, { amount: 0.5, model: 'in-house-embedder' }));
    expect(await s.run()).toEqual({ step: 'x', model: 'in-house-embedder', amount: 0.5 });
  });

  it('refuses to mix currencies in one run', async () => {
    const s = step('x', (_: void, ctx) => {
      recordCost(ctx, { amount: 1 });
      recordCost(ctx, { amount: 1, currency: 'EUR' });
    });
    await expect(s.run()).rejects.toThrow(/one run has one currency/);
  });

  it('emits cost.recorded with the table name of the model', async () => {
    const seen: WeftEvent[] = [];
    const sub = events.subscribe((e) => {
      if (e.type === 'cost.recorded') seen.push(e);
    });
    try {
      await step('llm', (_: void, ctx) => {
        recordCost(ctx, { model: 'gpt-4o-2024-08-06', inputTokens: 1_000_000, outputTokens: 0 });
      }).run(undefined, { workflow: 'wf' });
    } finally {
      sub.unsubscribe();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'cost.recorded', workflow: 'wf', step: 'llm', primitive: 'cost', amount: 2.5, model: 'gpt-4o', inputTokens: 1_000_000, outputTokens: 0, currency: 'USD' });
  });

  it('throws TypeErrors naming the bad field', async () => {
    const attempt = (usage: unknown, options?: unknown) =>
      step('x', (_: void, ctx) => {
        recordCost(ctx, usage as never, options as never);
      }).run();
    await expect(attempt({ amount: -1 })).rejects.toThrow(/`amount`/);
    await expect(attempt({ amount: Number.NaN })).rejects.toThrow(/`amount`/);
    await expect(attempt({ inputTokens: 5 })).rejects.toThrow(/`model`/);
    await expect(attempt({ model: 'gpt-4o', inputTokens: -5 })).rejects.toThrow(/`inputTokens`/);
    await expect(attempt({ model: 'gpt-4o', outputTokens: '5' })).rejects.toThrow(/`outputTokens`/);
    await expect(attempt({})).rejects.toThrow(/`usage`/);
    await expect(attempt(null)).rejects.toThrow(/`usage`/);
    await expect(attempt({ amount: 1, model: 'has space' })).rejects.toThrow(/`model`/);
    await expect(attempt({ amount: 1, currency: 'dollars' })).rejects.toThrow(/`currency`/);
    await expect(attempt({ amount: 1 }, { prices: {} })).rejects.toThrow(/`prices`/);
    await expect(attempt({ amount: 1 }, { step: '' })).rejects.toThrow(/`step`/);
    expect(() => recordCost({ amount: 1 })).toThrow(/`ctx`/);
    expect(() => getLedger()).toThrow(/`ctx`/);
    expect(currentContext()).toBeUndefined();
  });
});
