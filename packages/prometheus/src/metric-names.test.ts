import { readFileSync } from 'node:fs';
import { validateMetricName } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ERROR_KINDS, errorKind } from './error-kind.js';
import { BulkheadRejectedError, NonErrorThrown, RetryExhaustedError, TimeoutError, WeftError } from '@weft/core';
import { DEFAULT_BUCKETS, LABELS, METRIC_DEFINITIONS, METRIC_LABELS, METRICS } from './metric-names.js';

const definitions = Object.entries(METRIC_DEFINITIONS);

describe('metric names', () => {
  it('follow Prometheus conventions: weft_ prefix, _total counters, a unit on histograms, no _total on gauges', () => {
    for (const [, d] of definitions) {
      expect(validateMetricName(d.name)).toBe(true);
      expect(d.name).toMatch(/^weft_[a-z_]+[a-z]$/);
      if (d.type === 'counter') expect(d.name).toMatch(/_total$/);
      else expect(d.name).not.toMatch(/_total$/);
      // Time histograms in seconds; the per-stream count histograms carry their unit (chunks, tokens).
      if (d.type === 'histogram') expect(d.name).toMatch(/_(seconds|chunks|tokens)$/);
      expect(d.help.length).toBeGreaterThan(10);
    }
  });

  it('are unique, and every label is a declared LABELS name', () => {
    expect(new Set(definitions.map(([, d]) => d.name)).size).toBe(definitions.length);
    const declared = new Set<string>(Object.values(LABELS));
    for (const [, d] of definitions) {
      for (const l of d.labels) expect(declared).toContain(l);
      expect(new Set(d.labels).size).toBe(d.labels.length);
      expect(d.labels).not.toContain('le');
    }
  });

  it('export names and labels keyed alike', () => {
    expect(METRICS.workflowRuns).toBe('weft_workflow_runs_total');
    expect(METRIC_LABELS.workflowRuns).toEqual(['workflow', 'outcome']);
    for (const [key, d] of definitions) {
      expect(METRICS[key as keyof typeof METRICS]).toBe(d.name);
      expect(METRIC_LABELS[key as keyof typeof METRIC_LABELS]).toEqual(d.labels);
    }
    expect(Object.isFrozen(METRICS)).toBe(true);
  });

  it('cover what dashboards and alerts need', () => {
    const names = new Set(definitions.map(([, d]) => d.name));
    for (const n of [
      'weft_workflow_runs_total',
      'weft_workflow_run_duration_seconds',
      'weft_step_duration_seconds',
      'weft_retry_attempts_total',
      'weft_timeouts_total',
      'weft_fallbacks_total',
      'weft_circuit_state',
      'weft_circuit_transitions_total',
      'weft_bulkhead_rejections_total',
      'weft_ratelimit_rejections_total',
      'weft_hedges_started_total',
      'weft_hedges_won_total',
      'weft_cache_requests_total',
      'weft_sagas_total',
      'weft_saga_compensations_total',
      'weft_cost_total',
      'weft_budget_utilisation_ratio',
      'weft_chaos_injections_total',
      'weft_metrics_label_overflow_total',
    ]) {
      expect(names).toContain(n);
    }
    expect(METRIC_LABELS.cost).toEqual(['workflow', 'step', 'model', 'currency']);
    expect(METRIC_LABELS.stepDuration).toEqual(['workflow', 'step', 'outcome']);
  });

  it('default buckets span 1 ms to 60 s, strictly increasing', () => {
    expect(DEFAULT_BUCKETS[0]).toBe(0.001);
    expect(DEFAULT_BUCKETS.at(-1)).toBe(60);
    for (let i = 1; i < DEFAULT_BUCKETS.length; i++) expect(DEFAULT_BUCKETS[i]!).toBeGreaterThan(DEFAULT_BUCKETS[i - 1]!);
  });

  it('match the table in the README, row for row', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = readme
      .split('\n')
      .filter((line) => line.startsWith('| `weft_'))
      .map((line) => {
        const [name, type, labels, meaning] = line.split(' | ').map((c) => c.replace(/^\| /, '').replace(/ \|$/, ''));
        return { name: name!.replaceAll('`', ''), type, labels: labels!.split(', ').map((l) => l.replaceAll('`', '')), help: meaning };
      });
    expect(rows).toEqual(definitions.map(([, d]) => ({ name: d.name, type: d.type, labels: [...d.labels], help: d.help })));
  });
});

describe('errorKind', () => {
  it('maps Weft errors to their code and everything else to other, never reading the message', () => {
    expect(errorKind(new TimeoutError(10))).toBe('timeout');
    expect(errorKind(new RetryExhaustedError(3, new Error('x')))).toBe('retry_exhausted');
    expect(errorKind(new BulkheadRejectedError(1, 0))).toBe('bulkhead_rejected');
    expect(errorKind(new NonErrorThrown('x'))).toBe('non_error_thrown');
    expect(errorKind(new WeftError('generic'))).toBe('weft_error');
    expect(errorKind(new Error('timeout'))).toBe('other');
    expect(errorKind(Object.assign(new Error('x'), { code: 'TIMEOUT', name: 'TimeoutError' }))).toBe('other');
    expect(errorKind('TIMEOUT')).toBe('other');
    expect(errorKind(undefined)).toBe('other');
  });

  it('has a bounded set of values', () => {
    expect(ERROR_KINDS).toContain('other');
    expect(ERROR_KINDS.length).toBeLessThan(20);
    for (const k of ERROR_KINDS) expect(k).toMatch(/^[a-z_]+$/);
  });
});
