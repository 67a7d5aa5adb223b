import { describe, expect, it } from 'vitest';
import { redisServerGate } from '@weft/test-support';
import { runOrdersChaos } from './orders-chaos.js';

// The short version of `npm run chaos:orders`: real processes, real SIGKILLs, real Redis; the
// services' journal (a process never killed) is reconciled against the saga log and the answers.
const gate = redisServerGate();

describe.skipIf(gate.skip)('orders under SIGKILL (chaos, short)', () => {
  it('loses nothing: no half-undone order, no duplicated effect, no live saga taken over, no card in Redis', async () => {
    if (gate.failure !== undefined) throw new Error(gate.failure);
    const lines: string[] = [];
    const report = await runOrdersChaos({ orders: 150, concurrency: 12, kills: 5, killEveryMs: 1_200, killRedis: false, serviceLatencyMs: 20, log: (l) => lines.push(l) });
    console.log(`${report.line} (${report.kills} kills, ${report.takeovers} takeovers)`);
    expect(report.problems, lines.join('\n')).toEqual([]);
    expect(report.kills).toBeGreaterThanOrEqual(5);
    expect(report.completed + report.compensated + report.neverStarted).toBe(150);
    expect(report.recordsLost).toBe(0);
    expect(report.compensated).toBeGreaterThan(0);
    expect(report.halfUndone).toBe(0);
    expect(report.duplicatedEffects).toBe(0);
    expect(report.liveTakeovers).toBe(0);
    expect(report.cardInRedis).toBe(false);
  }, 180_000);
});
