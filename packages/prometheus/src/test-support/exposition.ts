import type { WeftEvent } from '@weft/core';
import { currentContext } from '@weft/core';
import type { Registry, RegistryContentType } from 'prom-client';

/** One sample line of a text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The series key as written: `name{a="x",b="y"}`. */
  readonly key: string;
  readonly exemplar?: { readonly labels: Readonly<Record<string, string>>; readonly value: number };
}

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'Nan' || s === 'NaN') return NaN;
  return Number(s);
}

function parseLabels(s: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!s) return labels;
  for (const m of s.matchAll(LABEL)) labels[m[1]!] = m[2]!;
  return labels;
}

/** Parses the Prometheus or OpenMetrics text format (samples only; comments dropped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [main, exemplarPart] = line.split(' # ');
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)/.exec(main!);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const sample: Sample = { name: m[1]!, labels: parseLabels(m[2]), value: parseValue(m[3]!), key: `${m[1]}${m[2] ?? ''}` };
    if (exemplarPart) {
      const e = /^(\{.*\}) (\S+)/.exec(exemplarPart);
      if (!e) throw new Error(`unparsable exemplar: ${line}`);
      out.push({ ...sample, exemplar: { labels: parseLabels(e[1]), value: parseValue(e[2]!) } });
    } else out.push(sample);
  }
  return out;
}

/**
 * The registry's series as `{ key: value }`, without histogram `_bucket` and `_sum` lines (which
 * depend on timing) unless asked for. Series with value 0 are kept: a test must see them too.
 */
export async function series(registry: Registry<RegistryContentType>, { buckets = false, sums = false } = {}): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of parseExposition(await registry.metrics())) {
    if (!buckets && s.name.endsWith('_bucket')) continue;
    if (!sums && s.name.endsWith('_sum')) continue;
    out[s.key] = s.value;
  }
  return out;
}

/** The base fields of a synthetic event. */
export function base(overrides: Partial<Pick<WeftEvent, 'workflow' | 'step' | 'primitive' | 'correlationId' | 'runId'>> = {}) {
  return { workflow: 'checkout', step: 'charge', primitive: 'step', correlationId: 'corr-1', runId: 'run-1', time: 0, ...overrides };
}

type Hub = { emit(event: WeftEvent): void; active: boolean };

/**
 * Emits a synthetic event into the real event stream from inside a run, with the run's workflow,
 * step and IDs filled in the way core's emitter does. For primitives whose events a test cannot
 * produce through a finished, exported primitive. Reaches the hub through its global symbol.
 */
export function emitInRun(payload: Record<string, unknown> & { type: WeftEvent['type'] }): void {
  const ctx = currentContext();
  if (!ctx) throw new Error('emitInRun must be called inside a run');
  const hub = (globalThis as Record<symbol, unknown>)[Symbol.for('weft.event-hub.v3')] as Hub | undefined;
  if (!hub) throw new Error('no Weft event hub on globalThis');
  if (!hub.active) return;
  hub.emit({
    workflow: ctx.workflow,
    step: ctx.step,
    primitive: 'synthetic',
    correlationId: ctx.correlationId,
    runId: ctx.runId,
    time: performance.timeOrigin + performance.now(),
    ...payload,
  } as unknown as WeftEvent);
}
