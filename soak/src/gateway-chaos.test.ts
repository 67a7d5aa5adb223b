import { spawn } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import { describeWith, hasRedisServer, REDIS_SERVER } from '@weft/test-support';
import { ensureBuilt } from './test-support/built.js';

interface PhaseStats {
  requests: number;
  byStatus: Record<string, number>;
  byError: Record<string, number>;
  maxLatencyMs: number;
  overDeadline: number;
  clientAborted: number;
}
interface ChaosReport {
  total: number;
  phases: Record<string, PhaseStats>;
  fiveXxWithFallback: number;
  fiveXxBudgetFailClosed: number;
  overDeadline: number;
  clientAborted: number;
  maxLatencyMs: number;
  requestTimeoutMs: number;
  transitions: Array<{ breaker: string; from: string; to: string; phase: string }>;
  heap: { startMb: number; endMb: number; growthPct: number };
  goals: Record<string, boolean>;
  ok: boolean;
}

/** Phases with no Redis outage: every answer there has a provider to fall back on, so no 5xx at all. */
const CALM_PHASES = ['baseline', 'beta down', 'latency spike', 'recovered'];

describeWith(REDIS_SERVER, 'chaos end to end (gateway under load: a provider dies and recovers, Redis is killed and restarted, latency spikes)', hasRedisServer(), () => {
  let script: string;
  beforeAll(() => {
    script = ensureBuilt('chaos-run.js');
  }, 120_000);

  it('serves every request that has a fallback path without a 5xx, opens and later closes the circuit, never hangs past the deadline, and keeps memory bounded', async () => {
    const { report, stderr } = await new Promise<{ report: ChaosReport; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--expose-gc', script, '--phase-seconds', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.once('error', reject);
      child.once('close', (code) => {
        try {
          resolve({ report: JSON.parse(out.trim().split('\n').pop() ?? '') as ChaosReport, stderr: err });
        } catch {
          reject(new Error(`the chaos run printed no JSON report (exit ${code}): ${err}`));
        }
      });
    });
    console.info(stderr.trim().split('\n').pop());
    expect(report.total).toBeGreaterThan(500);
    expect(report.fiveXxWithFallback).toBe(0);
    for (const phase of CALM_PHASES) {
      const s = report.phases[phase]!;
      expect(s.requests, phase).toBeGreaterThan(0);
      expect(Object.keys(s.byStatus).filter((status) => Number(status) >= 500), phase).toEqual([]);
    }
    // The budget fails closed while its store is down: those 503s only come from the Redis outage.
    expect(report.phases['redis killed']!.byError['503 budget_unavailable']).toBeGreaterThan(0);
    const beta = report.transitions.filter((t) => t.breaker === 'beta');
    expect(beta.some((t) => t.to === 'open' && t.phase === 'beta down')).toBe(true);
    expect(beta.some((t) => t.from === 'half-open' && t.to === 'closed' && t.phase === 'beta recovered')).toBe(true);
    expect(report.overDeadline).toBe(0);
    expect(report.clientAborted).toBe(0);
    expect(report.maxLatencyMs).toBeLessThan(report.requestTimeoutMs);
    expect(report.heap.growthPct).toBeLessThan(50);
    expect(report.ok).toBe(true);
  }, 150_000);
});
