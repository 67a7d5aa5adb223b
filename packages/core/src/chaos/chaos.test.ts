import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chaos, type ChaosOptions } from './chaos.js';
import { step } from '../index.js';
import { events } from '../events/event-stream.js';
import type { ChaosInjectedEvent } from '../events/event-types.js';
import { ChaosError, isChaosError } from '../errors/chaos-error.js';
import { isAbortedError } from '../errors/aborted-error.js';

type Kind = 'pass' | 'error' | 'result';

function counted() {
  const calls = { n: 0 };
  const p = step('dep', (x: number) => {
    calls.n++;
    return x * 2;
  });
  return { p, calls };
}

/** Collects `chaos.injected` events until stopped. */
function record(): { list: ChaosInjectedEvent[]; stop: () => void } {
  const list: ChaosInjectedEvent[] = [];
  const sub = events.subscribe((e) => {
    if (e.type === 'chaos.injected') list.push(e);
  });
  return { list, stop: () => sub.unsubscribe() };
}

/** Runs `n` calls one after another and classifies each outcome. */
async function outcomes(options: ChaosOptions<number, number>, n: number): Promise<Kind[]> {
  const { p } = counted();
  const c = chaos(p, options);
  const out: Kind[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.run(i).then(
      (v) => (v === -1 ? 'result' : 'pass'),
      (e: unknown) => (isChaosError(e) ? 'error' : 'pass'),
    );
    out.push(r);
  }
  return out;
}

describe('chaos', () => {
  beforeEach(() => {
    vi.stubEnv('WEFT_CHAOS', '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.useRealTimers();
  });

  it('throws a ChaosError at the fault rate, without running the primitive', async () => {
    const { p, calls } = counted();
    const error = await chaos(p, { enabled: true, fault: { rate: 1 } }).run(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChaosError);
    expect(isChaosError(error)).toBe(true);
    expect(calls.n).toBe(0);
  });

  it('throws the error made by a custom factory, given the input', async () => {
    const { p } = counted();
    const factory = vi.fn((x: number) => new RangeError(`bad ${x}`));
    const error = await chaos(p, { enabled: true, fault: { rate: 1, error: factory } }).run(7).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('bad 7');
    expect(factory).toHaveBeenCalledWith(7, expect.objectContaining({ step: 'dep' }));
  });

  it('returns a substituted value or factory result instead of running the primitive', async () => {
    const { p, calls } = counted();
    expect(await chaos(p, { enabled: true, result: { rate: 1, value: -1 } }).run(5)).toBe(-1);
    expect(await chaos(p, { enabled: true, result: { rate: 1, factory: async (x) => x + 1000 } }).run(5)).toBe(1005);
    expect(calls.n).toBe(0);
    const thrown = await chaos(p, {
      enabled: true,
      result: {
        rate: 1,
        factory: () => {
          throw new Error('factory broke');
        },
      },
    })
      .run(5)
      .catch((e: unknown) => e);
    expect((thrown as Error).message).toBe('factory broke');
  });

  it('runs the primitive normally when no injection is drawn', async () => {
    const { p, calls } = counted();
    expect(await chaos(p, { enabled: true, fault: { rate: 0 }, result: { rate: 0, value: -1 } }).run(21)).toBe(42);
    expect(calls.n).toBe(1);
  });

  it('delays by the latency, then runs the primitive, and reports it', async () => {
    vi.useFakeTimers();
    const { p, calls } = counted();
    const rec = record();
    const out = chaos(p, { enabled: true, latency: { rate: 1, ms: 300 } }).run(1);
    await vi.advanceTimersByTimeAsync(299);
    expect(calls.n).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await out).toBe(2);
    rec.stop();
    expect(rec.list).toHaveLength(1);
    expect(rec.list[0]).toMatchObject({ type: 'chaos.injected', fault: 'latency', latencyMs: 300, primitive: 'chaos', step: 'dep' });
  });

  it('draws latency from a [min, max] range', async () => {
    vi.useFakeTimers();
    const { p } = counted();
    const rec = record();
    const c = chaos(p, { enabled: true, seed: 3, latency: { rate: 1, ms: [100, 200] } });
    const runs = Array.from({ length: 200 }, (_, i) => c.run(i));
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(runs);
    rec.stop();
    const ms = rec.list.map((e) => e.latencyMs!);
    expect(ms).toHaveLength(200);
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...ms)).toBeLessThanOrEqual(200);
    expect(new Set(ms).size).toBeGreaterThan(20);
  });

  it('can delay and then fail the same call', async () => {
    vi.useFakeTimers();
    const rec = record();
    const out = chaos(counted().p, { enabled: true, latency: { rate: 1, ms: 50 }, fault: { rate: 1 } }).run(1).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(isChaosError(await out)).toBe(true);
    rec.stop();
    expect(rec.list.map((e) => e.fault)).toEqual(['latency', 'error']);
  });

  it('wakes from injected latency at once when the run aborts', async () => {
    vi.useFakeTimers();
    const { p, calls } = counted();
    const controller = new AbortController();
    const out = chaos(p, { enabled: true, latency: { rate: 1, ms: 60_000 } }).run(1, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    const error = await out;
    expect(isAbortedError(error)).toBe(true);
    expect(calls.n).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('replays the same injections for the same seed', async () => {
    const options: ChaosOptions<number, number> = { enabled: true, seed: 1234, fault: { rate: 0.3 }, result: { rate: 0.3, value: -1 } };
    const first = await outcomes(options, 300);
    const second = await outcomes(options, 300);
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['pass', 'error', 'result']));
    const other = await outcomes({ ...options, seed: 4321 }, 300);
    expect(other).not.toEqual(first);
  });

  it('uses a supplied random source', async () => {
    const values = [0.05, 0.5, 0.95];
    let i = 0;
    const random = () => values[i++ % values.length]!;
    expect(await outcomes({ enabled: true, random, fault: { rate: 0.1 }, result: { rate: 0.5, value: -1 } }, 3)).toEqual(['error', 'result', 'pass']);
  });

  it('injects each kind at its rate over 10,000 calls', async () => {
    for (const seed of [1, 2, 3]) {
      const rec = record();
      const c = chaos(counted().p, {
        enabled: true,
        seed,
        fault: { rate: 0.1 },
        latency: { rate: 0.2, ms: 0 },
        result: { rate: 0.05, value: -1 },
      });
      const runs = Array.from({ length: 10_000 }, (_, i) => c.run(i).catch(() => undefined));
      await Promise.all(runs);
      rec.stop();
      const share = (kind: string): number => rec.list.filter((e) => e.fault === kind).length / 10_000;
      expect(Math.abs(share('error') - 0.1)).toBeLessThan(0.015);
      expect(Math.abs(share('latency') - 0.2)).toBeLessThan(0.02);
      expect(Math.abs(share('result') - 0.05)).toBeLessThan(0.01);
    }
  });

  it('injects nothing and returns the inner exec when enabled is false', async () => {
    const { p, calls } = counted();
    const c = chaos(p, { enabled: false, fault: { rate: 1 } });
    expect(c.exec).toBe(p.exec);
    expect(c.kind).toBe('chaos');
    for (let i = 0; i < 100; i++) expect(await c.run(i)).toBe(i * 2);
    expect(calls.n).toBe(100);
  });

  it('is off by default when neither enabled nor WEFT_CHAOS is set', async () => {
    const { p } = counted();
    const c = chaos(p, { fault: { rate: 1 } });
    expect(c.exec).toBe(p.exec);
    expect(await c.run(1)).toBe(2);
  });

  it('asks an enabled function on every call, with the run context', async () => {
    const { p } = counted();
    const enabled = vi.fn((ctx: { attributes: Record<string, unknown> }) => ctx.attributes.tenant === 'test');
    const c = chaos(p, { enabled, fault: { rate: 1 } });
    expect(await c.run(1, { attributes: { tenant: 'prod' } })).toBe(2);
    expect(isChaosError(await c.run(1, { attributes: { tenant: 'test' } }).catch((e: unknown) => e))).toBe(true);
    expect(enabled).toHaveBeenCalledTimes(2);
    const broken = chaos(p, {
      enabled: () => {
        throw new Error('flag service down');
      },
      fault: { rate: 1 },
    });
    expect(await broken.run(1)).toBe(2);
  });

  it('switches on with WEFT_CHAOS=1 when enabled is not given', async () => {
    vi.stubEnv('WEFT_CHAOS', '1');
    const { p } = counted();
    expect(isChaosError(await chaos(p, { fault: { rate: 1 } }).run(1).catch((e: unknown) => e))).toBe(true);
    // an explicit enabled: false still wins over WEFT_CHAOS=1
    expect(await chaos(p, { enabled: false, fault: { rate: 1 } }).run(1)).toBe(2);
  });

  it('is killed by WEFT_CHAOS=0 even when enabled is true', async () => {
    vi.stubEnv('WEFT_CHAOS', '0');
    const { p } = counted();
    const c = chaos(p, { enabled: true, fault: { rate: 1 } });
    expect(c.exec).toBe(p.exec);
    expect(await c.run(1)).toBe(2);
    vi.stubEnv('WEFT_CHAOS', 'off');
    expect(await chaos(p, { enabled: () => true, fault: { rate: 1 } }).run(1)).toBe(2);
  });

  it('rejects a malformed WEFT_CHAOS when built', () => {
    vi.stubEnv('WEFT_CHAOS', 'yes please');
    expect(() => chaos(counted().p, { enabled: true, fault: { rate: 1 } })).toThrow(/`WEFT_CHAOS`/);
  });

  it('throws a TypeError naming the option for bad options', () => {
    const { p } = counted();
    expect(() => chaos(p, { fault: { rate: 1.5 } })).toThrow(/`fault.rate`/);
    expect(() => chaos(p, { fault: { rate: -0.1 } })).toThrow(TypeError);
    expect(() => chaos(p, { fault: {} as never })).toThrow(/`fault.rate`/);
    expect(() => chaos(p, { fault: { rate: 0.1, error: new Error('x') as never } })).toThrow(/`fault.error`/);
    expect(() => chaos(p, { latency: { rate: 2, ms: 1 } })).toThrow(/`latency.rate`/);
    expect(() => chaos(p, { latency: { rate: 0.5, ms: -1 } })).toThrow(/`latency.ms`/);
    expect(() => chaos(p, { latency: { rate: 0.5, ms: [300, 100] } })).toThrow(/`latency.ms\[1\]`/);
    expect(() => chaos(p, { latency: { rate: 0.5, ms: [1, 2, 3] as never } })).toThrow(/`latency.ms`/);
    expect(() => chaos(p, { result: { rate: Number.NaN, value: 1 } })).toThrow(/`result.rate`/);
    expect(() => chaos(p, { result: { rate: 0.1 } as never })).toThrow(/`result.factory`/);
    expect(() => chaos(p, { result: { rate: 0.1, value: 1, factory: () => 1 } as never })).toThrow(/`result`/);
    expect(() => chaos(p, { fault: { rate: 0.7 }, result: { rate: 0.4, value: 1 } })).toThrow(/`result.rate`/);
    expect(() => chaos(p, { fault: { rate: 0.1 }, seed: 1.5 })).toThrow(/`seed`/);
    expect(() => chaos(p, { fault: { rate: 0.1 }, seed: 1, random: Math.random })).toThrow(/`random`/);
    expect(() => chaos(p, { fault: { rate: 0.1 }, random: 3 as never })).toThrow(/`random`/);
    expect(() => chaos(p, { fault: { rate: 0.1 }, enabled: 'yes' as never })).toThrow(/`enabled`/);
    expect(() => chaos(p, { latencyMs: 300 } as never)).toThrow(/`latencyMs`/);
    expect(() => chaos(p, {})).toThrow(/`options`/);
    expect(() => chaos(p, undefined as never)).toThrow(/`options`/);
    expect(() => chaos({} as never, { fault: { rate: 0.1 } })).toThrow(/`primitive`/);
  });

  it('works through the fluent form', async () => {
    const { p } = counted();
    expect(await p.chaos({ enabled: true, result: { rate: 1, value: 99 } }).run(1)).toBe(99);
  });
});
