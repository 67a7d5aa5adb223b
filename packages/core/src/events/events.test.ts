import { afterEach, describe, expect, it, vi } from 'vitest';
import { filter, type Subscription } from 'rxjs';
import { events } from './event-stream.js';
import './index.js';
import type { WeftEvent } from './event-types.js';
import { step } from '../index.js';
import { sequence } from '../composition/sequence.js';
import { hub } from '../internal/event-hub.js';

describe('events', () => {
  const subs: Subscription[] = [];
  afterEach(() => {
    subs.splice(0).forEach((s) => s.unsubscribe());
  });

  it('reports each run and step starting and finishing with outcome and duration', async () => {
    const seen: WeftEvent[] = [];
    subs.push(events.subscribe((e) => seen.push(e)));
    const flow = sequence(step('a', (n: number) => n + 1), step('b', (n: number) => n * 2));
    await flow.run(1, { workflow: 'ev', correlationId: 'ev-1' });
    expect(seen.map((e) => `${e.type}:${e.step}`)).toEqual(['run.started:a>b', 'step.started:a', 'step.finished:a', 'step.started:b', 'step.finished:b', 'run.finished:a>b']);
    const finished = seen.at(-1)!;
    expect(finished.type === 'run.finished' && finished.outcome).toBe('success');
    expect(finished.type === 'run.finished' && finished.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen.every((e) => e.workflow === 'ev' && e.correlationId === 'ev-1')).toBe(true);
  });

  it('reports failures with the error', async () => {
    const seen: WeftEvent[] = [];
    subs.push(events.pipe(filter((e) => e.type === 'step.finished')).subscribe((e) => seen.push(e)));
    await step('fails', () => {
      throw new Error('x');
    })
      .run(undefined)
      .catch(() => {});
    expect(seen).toHaveLength(1);
    expect(seen[0]!.type === 'step.finished' && seen[0].outcome).toBe('error');
  });

  it('is inactive and costs nothing when nobody listens', () => {
    expect(hub.active).toBe(false);
    const s = events.subscribe(() => {});
    expect(hub.active).toBe(true);
    s.unsubscribe();
    expect(hub.active).toBe(false);
  });

  it('a subscriber that throws never breaks a run, even through pipe()', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    subs.push(events.subscribe(() => {
      throw new Error('bad subscriber');
    }));
    subs.push(events.pipe(filter((e) => e.type === 'step.started')).subscribe(() => {
      throw new Error('bad piped subscriber');
    }));
    const seen: string[] = [];
    subs.push(events.subscribe((e) => seen.push(e.type)));
    expect(await step('resilient', () => 7).run(undefined)).toBe(7);
    expect(seen).toContain('run.finished');
    await new Promise((r) => setTimeout(r, 5));
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it('primitive.events filters to that primitive', async () => {
    const mine = step('mine', () => 1);
    const seen: string[] = [];
    subs.push(mine.events.subscribe((e) => seen.push(e.step)));
    await step('other', () => 1).run(undefined);
    await mine.run(undefined);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s === 'mine')).toBe(true);
  });

  it('delivers events inside the emitting run\'s context', async () => {
    const { currentContext } = await import('../internal/ctx.js');
    const ids: Array<string | undefined> = [];
    subs.push(events.pipe(filter((e) => e.type === 'step.finished')).subscribe(() => ids.push(currentContext()?.correlationId)));
    await Promise.all([step('ctx-a', () => 1).run(undefined, { correlationId: 'c-a' }), step('ctx-b', async () => 2).run(undefined, { correlationId: 'c-b' })]);
    expect(ids.sort()).toEqual(['c-a', 'c-b']);
  });
});

describe('events are frozen', () => {
  it('a subscriber cannot change what later subscribers see', async () => {
    const seen: WeftEvent[] = [];
    const tamper = events.subscribe((e) => {
      try {
        (e as { step: string }).step = 'tampered';
      } catch {
        // strict mode throws on a frozen object
      }
    });
    const watch = events.subscribe((e) => seen.push(e));
    await step('frozen-event', () => 1).run(undefined);
    tamper.unsubscribe();
    watch.unsubscribe();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => Object.isFrozen(e) && e.step !== 'tampered')).toBe(true);
  });
});

describe('onEvent with types', () => {
  it('delivers only the named types, and primitives build no event of a type nobody takes', async () => {
    const { onEvent } = await import('./on-event.js');
    const seen: string[] = [];
    const stop = onEvent((e) => seen.push(`${e.type}:${e.step}`), { types: ['step.finished', 'run.finished'] });
    try {
      expect(hub.active).toBe(true);
      expect(hub.wants('step.finished')).toBe(true);
      expect(hub.wants('step.started')).toBe(false);
      await sequence(step('a', (n: number) => n + 1), step('b', (n: number) => n * 2)).run(1);
      expect(seen).toEqual(['step.finished:a', 'step.finished:b', 'run.finished:a>b']);
    } finally {
      stop();
    }
    expect(hub.active).toBe(false);
    expect(hub.wants('step.finished')).toBe(false);
  });

  it('a filtered and an unfiltered listener each get what they asked for; removing one twice changes nothing', async () => {
    const { onEvent } = await import('./on-event.js');
    const narrow: string[] = [];
    const wide: string[] = [];
    const stopNarrow = onEvent((e) => narrow.push(e.type), { types: ['run.finished'] });
    const stopWide = onEvent((e) => wide.push(e.type));
    await step('both', () => 1).run(undefined);
    stopWide();
    stopWide();
    expect(hub.wants('step.started')).toBe(false);
    expect(hub.wants('run.finished')).toBe(true);
    await step('narrow-only', () => 1).run(undefined);
    stopNarrow();
    expect(narrow).toEqual(['run.finished', 'run.finished']);
    expect(wide).toEqual(['run.started', 'step.started', 'step.finished', 'run.finished']);
    expect(hub.active).toBe(false);
  });

  it('rejects bad options with a TypeError naming the option', async () => {
    const { onEvent } = await import('./on-event.js');
    expect(() => onEvent(() => {}, { types: 'run.finished' as never })).toThrow(/`types`/);
    expect(() => onEvent(() => {}, { types: ['Run Finished' as never] })).toThrow(/`types`/);
    expect(() => onEvent(() => {}, { typos: [] } as never)).toThrow(/typos/);
    expect(hub.active).toBe(false);
  });
});
