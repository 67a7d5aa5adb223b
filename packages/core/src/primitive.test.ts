import { describe, expect, it } from 'vitest';
import { step } from './step/step.js';
import { parallel } from './composition/parallel.js';
import { sequence } from './composition/sequence.js';
import { recordCost } from './cost/index.js';

describe('runDetailed', () => {
  it('returns the output with the run\'s IDs and its cost ledger', async () => {
    const a = step('a', (n: number, ctx) => {
      recordCost(ctx, { amount: 0.25 });
      return n;
    });
    const b = step('b', (n: number) => {
      recordCost({ model: 'gpt-4o-mini', inputTokens: 1_000_000, outputTokens: 0 });
      return n + 1;
    });
    const flow = sequence(a, parallel([b, b]));
    const result = await flow.runDetailed(1, { correlationId: 'detail-1' });
    expect(result.output).toEqual([2, 2]);
    expect(result.correlationId).toBe('detail-1');
    expect(result.runId).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(result.cost.entries).toHaveLength(3);
    expect(result.cost.byStep.a).toBeCloseTo(0.25);
    expect(result.cost.total).toBeCloseTo(0.25 + 2 * (result.cost.byStep.b! / 2));
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('gives each concurrent run its own ledger', async () => {
    const spend = step('spend', (n: number, ctx) => {
      recordCost(ctx, { amount: n });
      return n;
    });
    const results = await Promise.all([1, 2, 3].map((n) => spend.runDetailed(n)));
    expect(results.map((r) => r.cost.total)).toEqual([1, 2, 3]);
  });
});
