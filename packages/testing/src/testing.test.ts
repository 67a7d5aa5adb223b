import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker, currentClock, systemClock, type Primitive } from '@weft/core';
import { captureEvents, metricsOf, parentSpanId, recordSpans, scriptedStep, testClock } from './index.js';

afterEach(() => {
  // Every test leaves the system clock in place.
  expect(currentClock()).toBe(systemClock);
});

describe('testClock', () => {
  it('runs three 10-second backoffs in milliseconds of real time', async () => {
    const clock = testClock();
    try {
      const flaky = scriptedStep<void, string>('flaky', [{ fail: 'busy', times: 3 }, { return: 'ok' }]);
      const started = performance.now();
      const result = flaky.step.retry({ delays: [10_000, 10_000, 10_000] }).run(undefined);
      await clock.tick(30_000);
      await expect(result).resolves.toBe('ok');
      expect(flaky.calls.map((c) => c.startedAt)).toEqual([0, 10_000, 20_000, 30_000]);
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      clock.uninstall();
    }
  });

  it('drives the breaker open time, the rate-limit refill and run timeouts; next() and runAll() fire what is pending', async () => {
    using clock = testClock({ now: new Date('2026-01-01T00:00:00Z') });
    expect(clock.now()).toBe(Date.parse('2026-01-01T00:00:00Z'));
    const breaker = new CircuitBreaker({ name: 'dep', threshold: 1, openMs: 5_000 });
    const dep = scriptedStep<void, string>('dep', [{ fail: 'down' }, { return: 'up' }]);
    const guarded = dep.step.circuitBreaker(breaker);
    await expect(guarded.run(undefined)).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    await clock.tick(5_000);
    expect(breaker.state).toBe('half-open');
    await expect(guarded.run(undefined)).resolves.toBe('up');

    const hung = scriptedStep<void, string>('hung', [{ hang: true }]);
    const timedOut = hung.step.run(undefined, { timeout: 250 }).catch((e: unknown) => e);
    expect(clock.pending()).toBe(1);
    await clock.next();
    expect(await timedOut).toMatchObject({ name: 'TimeoutError' });
    expect(hung.calls[0]?.aborted).toBe(true);

    const slow = scriptedStep<void, string>('slow', [{ delayMs: 60_000, return: 'late' }]);
    const late = slow.step.run(undefined);
    await clock.runAll();
    await expect(late).resolves.toBe('late');
    expect(clock.pending()).toBe(0);
  });
});

describe('testClock and event durations', () => {
  it('makes run and step durations deterministic', async () => {
    using clock = testClock({ now: 1_000 });
    using events = captureEvents();
    const slow = scriptedStep<void, string>('slow', [{ delayMs: 250, return: 'done' }]);
    const run = slow.step.run(undefined);
    await clock.tick(250);
    await run;
    expect(events.of('step.finished')[0]?.durationMs).toBe(250);
    expect(events.of('run.finished')[0]?.durationMs).toBe(250);
  });
});

describe('captureEvents', () => {
  it('records typed events, filters them by type, step and primitive, and waits for one', async () => {
    using events = captureEvents();
    const pay = scriptedStep<string, string>('pay', [{ fail: 'busy' }, { return: 'paid' }]);
    const waiting = events.waitFor('retry.succeeded');
    await pay.step.retry({ retries: 1, minDelay: 0 }).run('o-1');
    expect(await waiting).toMatchObject({ type: 'retry.succeeded', attempts: 2, step: 'pay' });
    expect(events.of('retry.scheduled')).toEqual([expect.objectContaining({ attempt: 1, delayMs: 0 })]);
    expect(events.forPrimitive('retry').map((e) => e.type)).toEqual(['run.started', 'retry.attempt', 'retry.scheduled', 'retry.attempt', 'retry.succeeded', 'run.finished']);
    expect(events.forStep('pay').length).toBeGreaterThan(0);
    events.clear();
    expect(events.events).toEqual([]);
    await expect(events.waitFor('budget.exceeded', undefined, { timeoutMs: 20 })).rejects.toThrow('No budget.exceeded event within 20 ms');
  });
});

describe('recordSpans', () => {
  it('gives the finished spans as a tree with parents resolved, and as an outline', async () => {
    const spans = recordSpans();
    try {
      const pay = scriptedStep<void, string>('pay', [{ fail: 'busy' }, { return: 'paid' }]);
      const checkout: Primitive<void, string> = pay.step.retry({ retries: 1, minDelay: 0 });
      await checkout.run(undefined, { workflow: 'checkout' });
      expect(spans.outline()).toBe(['checkout', '  retry pay', '    pay (error)', '    pay'].join('\n'));
      const [root] = spans.tree();
      expect(root?.children[0]?.children).toHaveLength(2);
      const attempt = root!.children[0]!.children[0]!.span;
      expect(parentSpanId(attempt)).toBe(root!.children[0]!.span.spanContext().spanId);
      spans.reset();
      expect(spans.spans()).toEqual([]);
    } finally {
      await spans.stop();
    }
  });
});

describe('metricsOf', () => {
  it('reads counters, gauges and histograms by name and labels', async () => {
    const registry = new Registry();
    const runs = new Counter({ name: 'app_runs_total', help: 'runs', labelNames: ['workflow', 'outcome'], registers: [registry] });
    const inFlight = new Gauge({ name: 'app_in_flight', help: 'in flight', labelNames: ['pool'], registers: [registry] });
    const took = new Histogram({ name: 'app_seconds', help: 'durations', labelNames: ['workflow'], buckets: [0.1, 1], registers: [registry] });
    runs.inc({ workflow: 'ok', outcome: 'success' }, 2);
    runs.inc({ workflow: 'other', outcome: 'success' });
    runs.inc({ workflow: 'ok', outcome: 'error' });
    inFlight.set({ pool: 'a' }, 3);
    inFlight.set({ pool: 'b' }, 5);
    took.observe({ workflow: 'ok' }, 0.05);
    took.observe({ workflow: 'ok' }, 0.5);
    const m = await metricsOf(registry);
    expect(m.names()).toEqual(['app_runs_total', 'app_in_flight', 'app_seconds']);
    expect(m.counter('app_runs_total', { workflow: 'ok', outcome: 'success' })).toBe(2);
    expect(m.counter('app_runs_total', { outcome: 'success' })).toBe(3);
    expect(m.counter('app_no_such_total')).toBe(0);
    expect(m.gauge('app_in_flight', { pool: 'b' })).toBe(5);
    expect(() => m.gauge('app_in_flight')).toThrow(/2 series of app_in_flight match/);
    expect(m.histogram('app_seconds', { workflow: 'ok' })).toEqual({ count: 2, sum: 0.55, buckets: { '0.1': 1, '1': 2, '+Inf': 2 } });
    expect(m.series('app_runs_total')).toHaveLength(3);
    await expect(metricsOf({} as never)).rejects.toThrow(/`registry`/);
  });
});

describe('scriptedStep', () => {
  it('records inputs, attempts and signals, and validates its script', async () => {
    const echo = scriptedStep<number, number>('echo', [{ return: 1 }, { return: 2 }]);
    expect(await echo.step.run(10)).toBe(1);
    expect(await echo.step.run(20)).toBe(2);
    expect(await echo.step.run(30)).toBe(2); // the last entry repeats
    expect(echo.calls.map((c) => [c.input, c.attempt, c.aborted])).toEqual([
      [10, 1, false],
      [20, 1, false],
      [30, 1, false],
    ]);
    expect(() => scriptedStep('bad', [])).toThrow(TypeError);
    expect(() => scriptedStep('bad', [{ times: 0 }])).toThrow(/`script\[0\]\.times`/);
  });
});

describe('under node:test', () => {
  it('runs with no vitest in the process (the kit imports no test runner)', async () => {
    // Inside the repo, so `@weft/testing` resolves from its node_modules.
    const cache = fileURLToPath(new URL('../../../node_modules/.cache/', import.meta.url));
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'weft-node-test-'));
    try {
      const file = join(dir, 'kit.test.mjs');
      writeFileSync(
        file,
        `import assert from 'node:assert/strict';
        import { test } from 'node:test';
        import { scriptedStep, testClock } from '@weft/testing';
        test('three 10 s backoffs on a test clock', async () => {
          const clock = testClock();
          const pay = scriptedStep('pay', [{ fail: 'busy', times: 3 }, { return: 'paid' }]);
          const result = pay.step.retry({ delays: [10_000, 10_000, 10_000] }).run('o-1');
          await clock.tick(30_000);
          assert.equal(await result, 'paid');
          assert.deepEqual(pay.calls.map((c) => c.startedAt), [0, 10_000, 20_000, 30_000]);
          clock.uninstall();
        });`,
      );
      const r = spawnSync(process.execPath, ['--test', file], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/# pass 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
