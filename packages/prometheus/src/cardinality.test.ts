import { fallback, retry, seededRandom, step, timeout, TimeoutError } from '@weft/core';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createWeftMetrics, type WeftCollector } from './collector.js';
import { parseExposition } from './test-support/exposition.js';

const collectors: WeftCollector[] = [];
afterEach(() => {
  for (const c of collectors.splice(0)) c.unregister();
});

/** Seeded, so the fault mix is the same on every run of the test. */
const random = seededRandom(42);

/** Random inputs, correlation IDs and error messages from fast-check's generators; `roll` picks the fault. */
const inputs = fc
  .sample(fc.record({ input: fc.string({ maxLength: 200 }), correlationId: fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/), message: fc.string({ unit: 'binary', maxLength: 300 }) }), { numRuns: 10_000, seed: 42 })
  .map((x) => ({ ...x, roll: random() }));

/** Every sample key and the label values seen. */
async function snapshot(registry: Registry): Promise<{ keys: Set<string>; values: Set<string> }> {
  const samples = parseExposition(await registry.metrics());
  return { keys: new Set(samples.map((s) => s.key)), values: new Set(samples.flatMap((s) => Object.entries(s.labels).filter(([k]) => k !== 'le').map(([, v]) => v))) };
}

describe('cardinality', () => {
  it('keeps the series set constant over 10,000 runs with random inputs, correlation IDs and error messages', async () => {
    const registry = new Registry();
    collectors.push(createWeftMetrics({ registry }));

    const lookup = step('lookup', (input: { input: string; message: string; roll: number }) => {
      // Failures carry the input and a random message, as real ones do; neither may become a label.
      if (input.roll < 0.25) throw new Error(`lookup of ${JSON.stringify(input.input)} failed: ${input.message}`);
      if (input.roll < 0.35) throw new TimeoutError(1, input.message);
      if (input.roll < 0.4) throw input.message; // a thrown non-Error
      return input.input.length;
    });
    const flow = fallback(retry(timeout(lookup, 1_000), { retries: 1, minDelay: 0, maxDelay: 0, jitter: 'none' }), (input) => -input.input.length);
    const other = step('render', (input: { input: string }) => `<p>${input.input}</p>`);

    const sizes: number[] = [];
    let first: Set<string> | undefined;
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        inputs.slice(batch * 1_000, (batch + 1) * 1_000).map((x, i) =>
          i % 10 === 0 ? other.run(x, { correlationId: x.correlationId, workflow: 'page' }) : flow.run(x, { correlationId: x.correlationId, workflow: 'search' }),
        ),
      );
      const { keys, values } = await snapshot(registry);
      sizes.push(keys.size);
      first ??= keys;
      expect(keys).toEqual(first);
      // Every label value is a name written in code or a member of a fixed set.
      const allowed = new Set(['search', 'page', 'lookup', 'render', 'success', 'error', 'succeeded', 'failed', 'other', 'timeout', 'non_error_thrown', 'exhausted', '1']);
      for (const v of values) expect(allowed).toContain(v);
    }
    expect(new Set(sizes).size).toBe(1);
    // The faults were injected: every error kind and the fallback show up.
    for (const error of ['other', 'timeout', 'non_error_thrown']) expect(first).toContain(`weft_step_errors_total{workflow="search",step="lookup",error="${error}"}`);
    expect(first).toContain('weft_fallbacks_total{workflow="search",step="lookup",alternative="1"}');
    expect(first).toContain('weft_retry_gave_up_total{workflow="search",step="lookup",reason="exhausted"}');
    const runs = parseExposition(await registry.metrics()).filter((s) => s.name === 'weft_workflow_runs_total');
    expect(runs.reduce((n, s) => n + s.value, 0)).toBe(10_000);
  });

  it('caps series when names are wrongly built from input, counting the overflow', async () => {
    const registry = new Registry();
    collectors.push(createWeftMetrics({ registry, maxLabelValues: 50 }));
    const echo = step('echo', (x: string) => x);
    const sizes: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      // Misuse: a workflow name per input.
      await Promise.all(inputs.slice(batch * 1_000, (batch + 1) * 1_000).map((x, i) => echo.run(x.input, { workflow: `wf-${batch}-${i}` })));
      sizes.push((await snapshot(registry)).keys.size);
    }
    expect(new Set(sizes).size).toBe(1);
    const samples = parseExposition(await registry.metrics());
    const runs = samples.filter((s) => s.name === 'weft_workflow_runs_total');
    expect(runs).toHaveLength(51);
    expect(runs.find((s) => s.labels.workflow === 'other')?.value).toBe(10_000 - 50);
    const overflow = samples.find((s) => s.name === 'weft_metrics_label_overflow_total' && s.labels.label === 'workflow');
    // Each overflowing run is replaced once for the run metrics and once for the step metric.
    expect(overflow?.value).toBe(2 * (10_000 - 50));
  });
});
