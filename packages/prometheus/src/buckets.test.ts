import { describe, expect, it } from 'vitest';
import { DEFAULT_BUCKETS, HTTP_BUCKETS } from './metric-names.js';
import { seededRandom } from './test-support/seeded-random.js';

// The p95 an operator reads is histogram_quantile over the buckets: Prometheus finds the bucket the
// rank falls in and interpolates linearly inside it. These tests feed known latency distributions
// (seeded, 200,000 samples each) through exactly that estimate and compare it with the samples' true
// p95. The goal is 10%.

const random = seededRandom;

/** A standard normal draw (Box-Muller). */
const normal = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

/** Prometheus's histogram_quantile over cumulative bucket counts (the +Inf bucket included). */
function histogramQuantile(q: number, bounds: readonly number[], samples: readonly number[]): number {
  const sorted = Float64Array.from(samples).sort();
  const counts: number[] = [];
  let at = 0;
  for (const b of bounds) {
    while (at < sorted.length && sorted[at]! <= b) at++;
    counts.push(at);
  }
  const total = samples.length;
  const rank = q * total;
  const i = counts.findIndex((c) => c >= rank);
  if (i === -1) return bounds.at(-1)!; // in the +Inf bucket: Prometheus answers the highest finite bound
  const lower = i === 0 ? 0 : bounds[i - 1]!;
  const below = i === 0 ? 0 : counts[i - 1]!;
  return lower + (bounds[i]! - lower) * ((rank - below) / (counts[i]! - below));
}

function trueQuantile(q: number, samples: readonly number[]): number {
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.ceil(q * sorted.length) - 1]!;
}

const N = 200_000;
const draw = (seed: number, f: (r: () => number) => number): number[] => {
  const r = random(seed);
  return Array.from({ length: N }, () => f(r));
};

/** Latencies measured on the gateway and its providers, and shapes around them. */
const RUN_DISTRIBUTIONS: Record<string, number[]> = {
  'a model call, uniform 0.8-3.0 s (read as 4.49 s with the old buckets)': draw(1, (r) => 0.8 + 2.2 * r()),
  'simulated provider, 20 ms + up to 60 ms jitter': draw(2, (r) => 0.02 + 0.06 * r()),
  'cache hits, log-normal around 1.5 ms': draw(3, (r) => 0.0015 * Math.exp(0.4 * normal(r))),
  'model calls, log-normal around 1.2 s with a heavy tail': draw(4, (r) => 1.2 * Math.exp(0.6 * normal(r))),
  'mixed: 70% cache hits at 2 ms, 30% provider calls at 0.8-3 s': draw(5, (r) => (r() < 0.7 ? 0.002 * (1 + 0.5 * r()) : 0.8 + 2.2 * r())),
  'slow streams, time to first token 0.3-1.5 s': draw(6, (r) => 0.3 + 1.2 * r()),
};

const HTTP_DISTRIBUTIONS: Record<string, number[]> = {
  'cache-hit answers and health checks, 0.6-3 ms': draw(7, (r) => 0.0006 + 0.0024 * r()),
  'a mix: 73% under 5 ms, the rest 20-800 ms': draw(8, (r) => (r() < 0.73 ? 0.001 + 0.004 * r() : 0.02 * Math.exp(3.7 * r()))),
  'provider-backed answers, log-normal around 60 ms': draw(9, (r) => 0.06 * Math.exp(0.5 * normal(r))),
};

function check(bounds: readonly number[], distributions: Record<string, number[]>): string[] {
  const report: string[] = [];
  for (const [name, samples] of Object.entries(distributions)) {
    for (const q of [0.5, 0.95, 0.99]) {
      const estimate = histogramQuantile(q, bounds, samples);
      const truth = trueQuantile(q, samples);
      const error = Math.abs(estimate - truth) / truth;
      report.push(`${name} p${q * 100}: true ${(truth * 1000).toFixed(2)} ms, from buckets ${(estimate * 1000).toFixed(2)} ms (${(error * 100).toFixed(1)}%)`);
      if (q === 0.95) expect(error, `${name}: p95 ${estimate} vs ${truth}`).toBeLessThanOrEqual(0.1);
    }
  }
  return report;
}

describe('histogram buckets', () => {
  it('read the p95 of run, step and first-token latencies within 10% of the truth', () => {
    console.log(`[buckets] DEFAULT_BUCKETS (${DEFAULT_BUCKETS.length}):\n  ${check(DEFAULT_BUCKETS, RUN_DISTRIBUTIONS).join('\n  ')}`);
  });

  it('read the p95 of HTTP request latencies within 10% of the truth', () => {
    console.log(`[buckets] HTTP_BUCKETS (${HTTP_BUCKETS.length}):\n  ${check(HTTP_BUCKETS, HTTP_DISTRIBUTIONS).join('\n  ')}`);
  });

  it('would have failed with the old buckets, whose 2.5 s to 5 s gap misread a model call', () => {
    const old = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    const samples = RUN_DISTRIBUTIONS['a model call, uniform 0.8-3.0 s (read as 4.49 s with the old buckets)']!;
    const error = Math.abs(histogramQuantile(0.95, old, samples) - trueQuantile(0.95, samples)) / trueQuantile(0.95, samples);
    expect(error).toBeGreaterThan(0.1);
  });
});
