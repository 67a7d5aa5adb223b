import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalBudgetStore } from '../cost/local-budget-store.js';
import { toNanos } from '../internal/money.js';
import { Observable, Subject, toArray, firstValueFrom } from 'rxjs';
import { useClock } from '../clock/clock.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { isCircuitOpenError } from '../errors/circuit-open-error.js';
import { isStreamInterruptedError } from '../errors/stream-interrupted-error.js';
import { isTimeoutError } from '../errors/timeout-error.js';
import { isBudgetExceededError } from '../errors/budget-exceeded-error.js';
import { events } from '../events/event-stream.js';
import type { WeftEvent } from '../events/event-types.js';
import { recordCost } from '../cost/record-cost.js';
import { step } from '../step/step.js';
import { manualClock } from '../test-support/manual-clock.js';
import '../cost/index.js';
import { recordSpans } from '../../../testing/src/record-spans.js';
import { pipeStream, streamStep } from './stream.js';

/** An upstream that yields `chunks`, recording what it produced, when it was closed and whether its signal aborted. */
function upstream(chunks: readonly string[], opts: { failAfter?: number; failWith?: Error } = {}) {
  const log = { produced: 0, closed: false, aborted: false, calls: 0 };
  const s = streamStep('upstream', async function* (_: string, ctx) {
    log.calls++;
    ctx.signal.addEventListener('abort', () => (log.aborted = true));
    try {
      for (const [i, c] of chunks.entries()) {
        if (opts.failAfter === i) throw opts.failWith ?? new Error(`upstream broke after ${i}`);
        log.produced++;
        yield c;
      }
      if (opts.failAfter === chunks.length) throw opts.failWith ?? new Error('upstream broke at the end');
    } finally {
      log.closed = true;
    }
  });
  return { s, log };
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<{ chunks: T[]; error?: unknown }> {
  const chunks: T[] = [];
  try {
    for await (const c of iterable) chunks.push(c);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('streamStep and stream()', () => {
  it('streams chunks in order, through for await and as an Observable, and collects', async () => {
    const { s } = upstream(['a', 'b', 'c']);
    expect((await drain(s.stream('x'))).chunks).toEqual(['a', 'b', 'c']);
    expect(await firstValueFrom(s.stream('x').pipe(toArray()))).toEqual(['a', 'b', 'c']);
    expect(await s.collect().run('x')).toEqual(['a', 'b', 'c']);
    expect(await s.collect((acc: string, c) => acc + c, '').run('x')).toBe('abc');
    expect(await s.map((c, i) => `${i}:${c}`).collect().run('x')).toEqual(['0:a', '1:b', '2:c']);
  });

  it('pulls from the upstream only as fast as the consumer reads: no buffering', async () => {
    const { s, log } = upstream(Array.from({ length: 100 }, (_, i) => String(i)));
    let read = 0;
    for await (const _ of s.stream('x')) {
      read++;
      await tick();
      expect(log.produced).toBeLessThanOrEqual(read + 1);
      if (read === 10) break;
    }
    expect(log.produced).toBeLessThanOrEqual(11);
  });

  it('leaving a for await loop aborts the upstream at once: its signal aborts and its iterator closes', async () => {
    let release!: () => void;
    const log = { aborted: false, closed: false };
    const s = streamStep('slow', async function* (_: string, ctx) {
      ctx.signal.addEventListener('abort', () => (log.aborted = true));
      try {
        yield 'first';
        await new Promise<void>((r) => (release = r)); // a socket waiting for the next token
        yield 'never';
      } finally {
        log.closed = true;
      }
    });
    for await (const c of s.stream('x')) {
      expect(c).toBe('first');
      break;
    }
    await tick();
    expect(log.aborted).toBe(true);
    release?.();
    await tick();
    expect(log.closed).toBe(true);
  });

  it('the run ends the moment the consumer leaves, even while the upstream hangs; a caller\'s signal still ends it', async () => {
    const finished: WeftEvent[] = [];
    const sub = events.subscribe((e) => {
      if (e.type === 'run.finished' && e.workflow.startsWith('hang')) finished.push(e);
    });
    try {
      const s = streamStep('hang', async function* () {
        yield 'first';
        await new Promise<never>(() => {}); // never settles and ignores its signal
      });
      for await (const c of s.stream('x', { workflow: 'hang-consumer' })) {
        expect(c).toBe('first');
        break;
      }
      await tick();
      expect(finished.map((e) => e.type === 'run.finished' && e.outcome === 'error' && (e.error as { by?: string }).by)).toEqual(['consumer']);

      const caller = new AbortController();
      const seen: string[] = [];
      const ended = drain(s.stream('x', { workflow: 'hang-caller', signal: caller.signal }));
      await tick();
      caller.abort(new Error('caller gave up'));
      const out = await ended;
      seen.push(...out.chunks);
      expect(seen).toEqual(['first']);
      expect(out.error).toBeInstanceOf(Error);
      expect(finished).toHaveLength(2);
      console.log(`[stream] upstream hung forever: runs ended at once ${finished.length} of 2 (consumer left: by ${String((finished[0] as { error?: { by?: string } }).error?.by)}; caller aborted after ${seen.length} chunk)`);
    } finally {
      sub.unsubscribe();
    }
  });

  it('a stream that completed is not aborted afterwards by the teardown of its subscription', async () => {
    let signal: AbortSignal | undefined;
    const s = streamStep('done', async function* (_: string, ctx) {
      signal = ctx.signal;
      yield 'a';
      yield 'b';
    });
    expect(await firstValueFrom(s.stream('x').pipe(toArray()))).toEqual(['a', 'b']);
    await tick();
    expect(signal?.aborted).toBe(false);
  });

  it('unsubscribing aborts the upstream too', async () => {
    const { s, log } = upstream(Array.from({ length: 1000 }, (_, i) => String(i)));
    await new Promise<void>((resolve) => {
      const sub = s.stream('x').subscribe({
        next: (c) => {
          if (c === '3') {
            sub.unsubscribe();
            resolve();
          }
        },
      });
    });
    await tick();
    expect(log.aborted).toBe(true);
    expect(log.produced).toBeLessThan(10);
  });

  it('reads an Observable source, and fails it beyond highWaterMark rather than buffer without bound', async () => {
    const ok = streamStep('obs', () => new Observable<number>((o) => (o.next(1), o.next(2), o.complete())));
    expect(await ok.collect().run(undefined)).toEqual([1, 2]);
    const subject = new Subject<number>();
    const flood = streamStep({ name: 'flood', highWaterMark: 5 }, () => subject);
    const iterator = flood.stream(undefined)[Symbol.asyncIterator]();
    const first = iterator.next();
    await tick();
    for (let i = 0; i < 20; i++) subject.next(i);
    expect(await first).toEqual({ value: 0, done: false });
    const rest: unknown[] = [];
    const error = await (async () => {
      for (;;) {
        const r = await iterator.next();
        if (r.done) return undefined;
        rest.push(r.value);
      }
    })().catch((e: unknown) => e);
    expect(String(error)).toMatch(/highWaterMark/);
    expect(rest.length).toBeLessThanOrEqual(5);
  });

  it('reports first_chunk and finished events with each outcome', async () => {
    const seen: WeftEvent[] = [];
    const sub = events.subscribe((e) => e.type.startsWith('stream.') && seen.push(e));
    try {
      const tokens = streamStep({ name: 'tok', tokens: (c: string) => c.length }, async function* () {
        yield 'ab';
        yield 'cde';
      });
      await tokens.collect().run(undefined);
      await drain(upstream([], { failAfter: 0 }).s.stream('x'));
      await drain(upstream(['a', 'b'], { failAfter: 1 }).s.stream('x'));
      for await (const _ of upstream(['a', 'b', 'c']).s.stream('x')) break;
      await tick();
    } finally {
      sub.unsubscribe();
    }
    const finished = seen.filter((e) => e.type === 'stream.finished');
    expect(finished.map((e) => e.outcome)).toEqual(['completed', 'failed_before_first_chunk', 'failed_mid_stream', 'aborted']);
    expect(finished[0]).toMatchObject({ chunks: 2, tokens: 5, step: 'tok' });
    expect(seen.filter((e) => e.type === 'stream.first_chunk')).toHaveLength(3);
  });
});

describe('stream spans', () => {
  it('puts a first_chunk event, the chunk count and the outcome on the streaming step span', async () => {
    const spans = recordSpans();
    try {
      await upstream(['a', 'b']).s.collect().run('x');
      const span = spans.spans().find((x) => x.name === 'upstream')!;
      expect(span.events.map((e) => e.name)).toEqual(['first_chunk']);
      expect(span.attributes).toMatchObject({ 'weft.stream.chunks': 2, 'weft.stream.outcome': 'completed' });
    } finally {
      await spans.stop();
    }
  });
});

describe('primitives on a stream', () => {
  it('retry acts only before the first chunk; after it, the stream ends with StreamInterruptedError and nothing repeats', async () => {
    let calls = 0;
    const flaky = streamStep('flaky', async function* () {
      if (++calls < 3) throw new Error('503');
      yield 'ok';
    }).retry({ retries: 3, minDelay: 0 });
    expect(await flaky.collect().run(undefined)).toEqual(['ok']);
    expect(calls).toBe(3);

    const { s, log } = upstream(['a', 'b', 'c'], { failAfter: 2 });
    const r = await drain(s.retry({ retries: 3, minDelay: 0 }).stream('x'));
    expect(r.chunks).toEqual(['a', 'b']);
    expect(isStreamInterruptedError(r.error)).toBe(true);
    expect(r.error).toMatchObject({ chunks: 2 });
    expect(log.calls).toBe(1);
  });

  it('fallback answers a stream that failed before its first chunk, never one that failed mid-stream', async () => {
    const down = upstream([], { failAfter: 0 });
    const backup = upstream(['b1', 'b2']);
    expect((await drain(down.s.fallback(backup.s).stream('x'))).chunks).toEqual(['b1', 'b2']);
    const mid = upstream(['a'], { failAfter: 1 });
    const backup2 = upstream(['b1']);
    const r = await drain(mid.s.fallback(backup2.s).stream('x'));
    expect(r.chunks).toEqual(['a']);
    expect(isStreamInterruptedError(r.error)).toBe(true);
    expect(backup2.log.calls).toBe(0);
  });

  describe('with a manual clock', () => {
    let clock: ReturnType<typeof manualClock>;
    let restore: () => void;
    beforeEach(() => {
      clock = manualClock();
      restore = useClock(clock);
    });
    afterEach(() => restore());

    /** Yields a chunk each time `emit()` is called; ends on `end()`. */
    function controlled() {
      const log = { aborted: false, closed: false };
      let push!: (v: string | null) => void;
      const s = streamStep('controlled', async function* (_: string, ctx) {
        ctx.signal.addEventListener('abort', () => (log.aborted = true));
        try {
          for (;;) {
            const v = await new Promise<string | null>((r) => (push = r));
            if (v === null) return;
            yield v;
          }
        } finally {
          log.closed = true;
        }
      });
      return { s, log, emit: (v: string) => push(v), end: () => push(null) };
    }

    it('timeout bounds the time to the first chunk, the gap between chunks and the total, aborting the upstream', async () => {
      const a = controlled();
      const first = drain(a.s.timeout({ firstChunkMs: 1_000 }).stream('x'));
      await clock.advance(1_000);
      const r1 = await first;
      expect(isTimeoutError(r1.error)).toBe(true);
      expect(a.log.aborted).toBe(true);

      const b = controlled();
      const idle = drain(b.s.timeout({ firstChunkMs: 5_000, idleMs: 500 }).stream('x'));
      await clock.advance(10);
      b.emit('one');
      await clock.advance(400);
      b.emit('two');
      await clock.advance(500);
      const r2 = await idle;
      expect(r2.chunks).toEqual(['one', 'two']);
      expect(isStreamInterruptedError(r2.error) && isTimeoutError(r2.error.cause)).toBe(true);

      const c = controlled();
      const total = drain(c.s.timeout({ totalMs: 1_000, idleMs: 600 }).stream('x'));
      for (let i = 0; i < 4; i++) {
        await clock.advance(300);
        c.emit(`c${i}`);
      }
      await clock.advance(100);
      const r3 = await total;
      expect(r3.chunks).toEqual(['c0', 'c1', 'c2']);
      expect(r3.error).toBeDefined();
      expect(clock.pending()).toBe(0);
    });

    it('hedge starts a second stream when the first is slow to its first chunk; the first to deliver wins and the other is aborted', async () => {
      const streams: Array<ReturnType<typeof controlled>> = [];
      let n = 0;
      const hedged = streamStep('hedged', (input: string, ctx) => {
        const c = streams[n++]!;
        return c.s.stream(input, { signal: ctx.signal });
      }).hedge({ delayMs: 200 });
      streams.push(controlled(), controlled());
      const result = drain(hedged.stream('x'));
      await clock.advance(200);
      expect(n).toBe(2);
      streams[1]!.emit('from second');
      await tick();
      streams[1]!.emit('more');
      await tick();
      streams[1]!.end();
      const r = await result;
      expect(r.chunks).toEqual(['from second', 'more']);
      await tick();
      expect(streams[0]!.log.aborted).toBe(true);
      expect(clock.pending()).toBe(0);
    });
  });

  it('the breaker counts mid-stream failures, and an open one refuses before the upstream is called', async () => {
    const breaker = new CircuitBreaker({ name: 'streams', threshold: 2, openMs: 60_000 });
    const failing = upstream(['a'], { failAfter: 1 });
    const guarded = failing.s.circuitBreaker(breaker);
    await drain(guarded.stream('x'));
    await drain(guarded.stream('x'));
    expect(breaker.state).toBe('open');
    const r = await drain(guarded.stream('x'));
    expect(isCircuitOpenError(r.error)).toBe(true);
    expect(failing.log.calls).toBe(2);
  });

  it('cache replays a completed stream as a stream, and never stores a failed or aborted one', async () => {
    const ok = upstream(['x', 'y']);
    const cached = ok.s.cache({ namespace: 'stream-cache' });
    expect((await drain(cached.stream('q'))).chunks).toEqual(['x', 'y']);
    expect((await drain(cached.stream('q'))).chunks).toEqual(['x', 'y']);
    expect(ok.log.calls).toBe(1);

    const broken = upstream(['x'], { failAfter: 1 });
    const cachedBroken = broken.s.cache({ namespace: 'stream-cache-broken' });
    await drain(cachedBroken.stream('q'));
    await drain(cachedBroken.stream('q'));
    expect(broken.log.calls).toBe(2);

    const long = upstream(['1', '2', '3']);
    const cachedLong = long.s.cache({ namespace: 'stream-cache-aborted' });
    for await (const _ of cachedLong.stream('q')) break;
    await tick();
    await drain(cachedLong.stream('q'));
    expect(long.log.calls).toBe(2);
  });

  it('a budget around the stream reserves before it starts and charges what an aborted stream produced', async () => {
    let produced = 0;
    const tokens = streamStep('tokens', async function* () {
      try {
        for (let i = 0; i < 100; i++) {
          produced++;
          yield `t${i}`;
        }
      } finally {
        // Charged for what was produced, however the stream ended.
        recordCost({ amount: produced * 0.01 });
      }
    });
    const store = new LocalBudgetStore();
    const budgeted = tokens.around((whole) => whole.budget({ name: 'stream-budget', window: { limit: 0.05, windowMs: 60_000 }, estimate: 0.01, store }));
    let read = 0;
    for await (const _ of budgeted.stream(undefined)) if (++read === 5) break;
    // Settled from what the aborted stream recorded: the chunks produced, read-ahead included.
    await vi.waitFor(async () => expect(store.spent('stream-budget', 60_000, Date.now())).toBe(toNanos(produced * 0.01)));
    expect(produced).toBeGreaterThanOrEqual(5);
    expect(produced).toBeLessThanOrEqual(7);
    const r = await drain(budgeted.stream(undefined));
    expect(isBudgetExceededError(r.error)).toBe(true);
    expect(r.chunks).toEqual([]);
  });

  it('a chain of plain steps before the stream runs first; its output feeds the stream', async () => {
    const prompt = step('prompt', (q: string) => q.toUpperCase());
    const words = streamStep('words', async function* (text: string) {
      yield* text.split(' ');
    });
    expect(await pipeStream(prompt, words).collect().run('hello world')).toEqual(['HELLO', 'WORLD']);
  });

  it('rejects bad options with TypeErrors naming them', () => {
    const { s } = upstream(['a']);
    expect(() => streamStep('', async function* () {})).toThrow(/`name`/);
    expect(() => streamStep('ok', 'nope' as never)).toThrow(/`fn`/);
    expect(() => streamStep({ name: 'ok', highWaterMark: 0 }, async function* () {})).toThrow(/`highWaterMark`/);
    expect(() => s.timeout({})).toThrow(/`options`/);
    expect(() => s.timeout({ idleMs: -1 })).toThrow(/`idleMs`/);
    expect(() => s.retry({ retries: -1 })).toThrow(/`retries`/);
    expect(() => s.hedge({ delay: 1 } as never)).toThrow(/`delay`/);
    expect(() => s.fallback()).toThrow(/`alternatives`/);
    expect(() => s.circuitBreaker({} as never)).toThrow(/`breaker`/);
  });
});
