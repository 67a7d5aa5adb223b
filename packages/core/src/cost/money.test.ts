import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sequence } from '../composition/sequence.js';
import { step } from '../step/step.js';
import { budget } from './budget.js';
import { LocalBudgetStore } from './local-budget-store.js';
import { getLedger } from './ledger.js';
import { createPriceTable } from './price-table.js';
import { recordCost } from './record-cost.js';

// Money is exact: amounts are added as integer nano-units, never as binary fractions.

/** The exact decimal sum of amounts with at most 9 decimals, as a number (via BigInt nano-units). */
function exactSum(amounts: readonly number[]): number {
  let nanos = 0n;
  for (const a of amounts) nanos += BigInt(Math.round(a * 1e9));
  return Number(nanos) / 1e9;
}

describe('exact money', () => {
  it('lets a per-run limit of 0.3 take three calls of 0.1 (floating point would refuse the third)', async () => {
    expect(0.1 + 0.1 + 0.1).toBeGreaterThan(0.3); // the bug this guards against
    const call = budget(
      step('call', (_: void, ctx) => {
        recordCost(ctx, { amount: 0.1 });
      }),
      { name: 'tenth', perRun: 0.3, estimate: 0.1 },
    );
    const spent = step('spent', (_: void, ctx) => getLedger(ctx).total);
    await expect(sequence(call, call, call, spent).run(undefined)).resolves.toBe(0.3);
  });

  it('lets a window of 0.3 take three charges of 0.1 and refuses the fourth', async () => {
    const store = new LocalBudgetStore();
    const tenth = step('call', (_: void, ctx) => {
      recordCost(ctx, { amount: 0.1 });
      return 'ok';
    });
    const call = budget(tenth, { name: 'win-tenth', window: { limit: 0.3, windowMs: 60_000 }, estimate: 0.1, store });
    for (let i = 0; i < 3; i++) await expect(call.run(undefined)).resolves.toBe('ok');
    await expect(call.run(undefined)).rejects.toMatchObject({ name: 'BudgetExceededError', spent: 0.3, limit: 0.3 });
  });

  it('prices tokens exactly: 1,000 + 200 tokens at $0.0375/$0.15 per million is $0.0000675', async () => {
    const prices = createPriceTable({ tiny: { input: 0.0375, output: 0.15 } }, { extend: false });
    expect(prices.cost('tiny', 1_000, 200)).toBe(0.0000675);
    const s = step('llm', (_: void, ctx) => {
      recordCost(ctx, { model: 'tiny', inputTokens: 1_000, outputTokens: 200 }, { prices });
      recordCost(ctx, { amount: 0.0000532 });
      return getLedger(ctx);
    });
    const ledger = await s.run(undefined);
    expect(ledger.total).toBe(0.0001207);
    expect(JSON.stringify({ amount: ledger.total })).toBe('{"amount":0.0001207}');
  });

  it('sums any amounts (up to 9 decimals) to their exact decimal total, in the ledger and per step', async () => {
    const amount = fc.integer({ min: 0, max: 5_000_000_000 }).map((nanos) => nanos / 1e9);
    await fc.assert(
      fc.asyncProperty(fc.array(amount, { minLength: 1, maxLength: 40 }), async (amounts) => {
        const s = step('sum', (_: void, ctx) => {
          for (const a of amounts) recordCost(ctx, { amount: a });
          return getLedger(ctx);
        });
        const ledger = await s.run(undefined);
        expect(ledger.total).toBe(exactSum(amounts));
        expect(ledger.byStep['sum']).toBe(exactSum(amounts));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects amounts beyond what nano-units hold exactly, naming the option', () => {
    expect(() => budget(step('x', () => 1), { name: 'huge', perRun: 1e7 })).toThrow(/`perRun` to be a number >= 0 and <= 9000000/);
    expect(() => budget(step('x', () => 1), { name: 'nan', window: { limit: Number.NaN, windowMs: 1 } })).toThrow(/`window.limit`.*got NaN/);
  });
});
