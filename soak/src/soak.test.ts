import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './test-support/built.js';

const RUNS = 50_000;

interface SoakReport {
  runs: number;
  outcomes: Record<'success' | 'cached' | 'fallback' | 'typed_error' | 'untyped_error', number>;
  accounted: number;
  untypedSamples: string[];
  breakerOpens: number;
  spansEnded: number;
  metrics: { workflowRuns: number; handlerErrors: number };
  heap: { middleBytes: number; endBytes: number; growthMiddleToEndPct: number };
  unhandledRejections: number;
  uncaughtExceptions: number;
  unhandledSamples: string[];
  activeHandles: { count: number; leftover: string[] };
  ok: boolean;
}

/** Runs the built soak script in a child with --expose-gc and parses the JSON report on its last stdout line. */
function runSoak(script: string, runs: number): Promise<{ code: number | null; report: SoakReport; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, '--runs', String(runs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve({ code, report: JSON.parse(last) as SoakReport, stderr: err });
      } catch {
        reject(new Error(`the soak printed no JSON report (exit ${code}): ${err}`));
      }
    });
  });
}

describe(`soak (${RUNS.toLocaleString('en')} runs of the realistic chain, in a child with --expose-gc)`, () => {
  let script: string;
  beforeAll(() => {
    script = ensureBuilt('soak.js');
  }, 120_000);

  it('accounts for every run, leaks no heap, rejection or handle, and keeps the collector in step', async () => {
    const { code, report, stderr } = await runSoak(script, RUNS);
    // Every run ended as a success (fresh or cached), a fallback or a typed Weft error, and the counts add up.
    const { success, cached, fallback, typed_error, untyped_error } = report.outcomes;
    expect(report.untypedSamples).toEqual([]);
    expect(untyped_error).toBe(0);
    expect(success + cached + fallback + typed_error).toBe(RUNS);
    expect(report.accounted).toBe(RUNS);
    expect(report.metrics.workflowRuns).toBe(RUNS);
    expect(report.metrics.handlerErrors).toBe(0);
    // The fault mix really exercised every path.
    expect(cached).toBeGreaterThan(0);
    expect(fallback).toBeGreaterThan(0);
    expect(typed_error).toBeGreaterThan(0);
    expect(report.breakerOpens).toBeGreaterThan(0);
    expect(report.spansEnded).toBeGreaterThan(RUNS);
    // Leaks.
    expect(report.unhandledSamples).toEqual([]);
    expect(report.unhandledRejections).toBe(0);
    expect(report.uncaughtExceptions).toBe(0);
    expect(report.activeHandles.leftover).toEqual([]);
    expect(report.heap.growthMiddleToEndPct).toBeLessThan(5);
    expect(report.ok, stderr).toBe(true);
    expect(code).toBe(0);
  }, 180_000);
});
