import { AsyncLocalStorage } from 'node:async_hooks';
import { Observable, type Subscriber } from 'rxjs';
import { currentClock, durationNow, type TimerHandle } from '../clock/clock.js';
import type { RunContext } from '../context/run-context.js';
import { AbortedError, isAbortedError } from '../errors/aborted-error.js';
import { classifyError } from '../errors/classify.js';
import { toError } from '../errors/non-error-thrown.js';
import { isStreamInterruptedError, StreamInterruptedError } from '../errors/stream-interrupted-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { abortReasonError, storage, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { otelApi } from '../internal/otel.js';
import { raceAbort } from '../internal/race.js';
import { Scope } from '../internal/scope.js';
import { sleep } from '../internal/sleep.js';
import { childSpan, endSpan, failSpan } from '../internal/tracing.js';
import { fail, number, optionalFunction, optionalNumber, optionsObject, primitiveName } from '../internal/validate-options.js';
import { Cache, type CacheOptions } from '../cache/cache.js';
import { Primitive, RunStop, type RunOptions } from '../primitive.js';

/**
 * What a streaming step returns: an async iterable (an async generator, a Node stream, the
 * `openai` client's stream), or a subscribable such as an rxjs `Observable`.
 */
export type StreamSource<T> = AsyncIterable<T> | { subscribe(observer: { next(value: T): void; error(error: unknown): void; complete(): void }): { unsubscribe(): void } };

/** A streaming step's function. Its `ctx.signal` aborts when the consumer stops reading. */
export type StreamFn<I, T> = (input: I, ctx: RunContext) => StreamSource<T> | Promise<StreamSource<T>>;

/** @internal Where chunks go: `next` resolves when the consumer is ready for the next one. */
export interface Sink<T> {
  next(chunk: T): void | Promise<void>;
}

/** @internal How a stream primitive executes inside a run: it pushes chunks into `sink` and resolves when the stream ends. */
export type StreamExec<I, T> = (input: I, ctx: Ctx, sink: Sink<T>) => Promise<void>;

/** How a stream ended, on `stream.finished` events and the `weft_streams_total` metric. */
export type StreamOutcome = 'completed' | 'failed_before_first_chunk' | 'failed_mid_stream' | 'aborted';

/** Options for {@link streamStep}. */
export interface StreamStepOptions<T> {
  /** The step's name, for spans, events and metric labels. */
  readonly name: string;
  /** Tokens in a chunk, counted into `stream.finished` and `weft_stream_tokens`. @default undefined (not counted) */
  readonly tokens?: (chunk: T) => number;
  /**
   * For push sources (an `Observable`), which cannot wait for a slow consumer: how many chunks Weft
   * holds before it fails the stream with an error rather than buffer without bound.
   * Async iterables are pulled one chunk at a time and never buffered.
   * @default 1_000
   */
  readonly highWaterMark?: number;
}

/** Options for {@link StreamPrimitive.timeout}: each limit applies on its own. */
export interface StreamTimeoutOptions {
  /** Milliseconds until the first chunk. */
  readonly firstChunkMs?: number;
  /** Milliseconds allowed between two chunks. */
  readonly idleMs?: number;
  /** Milliseconds the whole stream may take. */
  readonly totalMs?: number;
}

/** Options for {@link StreamPrimitive.retry}. */
export interface StreamRetryOptions {
  /** Extra attempts after the first. @default 2 */
  readonly retries?: number;
  /** Milliseconds before the first retry, doubled each time. @default 100 */
  readonly minDelay?: number;
  /** The longest wait between attempts. @default 5_000 */
  readonly maxDelay?: number;
  /** Whether to retry a failure. @default what `classifyError` calls retryable */
  readonly retryOn?: (error: Error, attempt: number) => boolean;
}

/** Options for {@link StreamPrimitive.hedge}. */
export interface StreamHedgeOptions {
  /** Milliseconds without a first chunk before a second stream starts. */
  readonly delayMs: number;
}

/**
 * The stream `stream()` returns: an rxjs `Observable` that is also an async iterable. Either way the
 * upstream is read only as fast as the consumer takes chunks (`for await` pulls one at a time; a
 * subscriber receives each chunk synchronously before the next is read), so Weft never buffers
 * without bound. Unsubscribing, or leaving a `for await` loop, aborts the run at once: the
 * streaming step's `ctx.signal` aborts and its iterator is closed.
 */
export class WeftStream<T> extends Observable<T> implements AsyncIterable<T> {
  /** @internal Use `StreamPrimitive.stream()`. */
  constructor(private readonly start: (sink: Sink<T>, stop: RunStop) => Promise<void>) {
    super((subscriber: Subscriber<T>) => {
      const stop = new RunStop();
      this.start({ next: (chunk) => subscriber.next(chunk) }, stop).then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error),
      );
      return () => stop.abort(new AbortedError(undefined, 'The stream consumer unsubscribed', 'consumer'));
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    const stop = new RunStop();
    // One slot: the producer waits until the consumer has taken the chunk and asked for the next.
    let slot: { chunk: T; taken: () => void } | undefined;
    let waiting: ((r: IteratorResult<T>) => void) | undefined;
    let failed: ((e: unknown) => void) | undefined;
    let ended: { error?: unknown } | undefined;
    const settle = (): void => {
      if (waiting === undefined) return;
      if (slot !== undefined) {
        const { chunk, taken } = slot;
        slot = undefined;
        const w = waiting;
        waiting = undefined;
        failed = undefined;
        taken();
        w({ value: chunk, done: false });
      } else if (ended !== undefined) {
        const w = waiting;
        const f = failed!;
        waiting = undefined;
        failed = undefined;
        if ('error' in ended) f(ended.error);
        else w({ value: undefined, done: true });
      }
    };
    let started = false;
    const begin = (): void => {
      started = true;
      this.start(
        {
          next: (chunk) => {
            // The consumer has gone: drop the chunk; the producer sees the abort and ends.
            if (ended !== undefined) return undefined;
            // The consumer is already waiting: hand the chunk over, and let the producer go on.
            if (waiting !== undefined) {
              const w = waiting;
              waiting = undefined;
              failed = undefined;
              w({ value: chunk, done: false });
              return undefined;
            }
            return new Promise<void>((taken) => {
              slot = { chunk, taken };
            });
          },
        },
        stop,
      ).then(
        () => {
          ended = {};
          settle();
        },
        (error: unknown) => {
          ended = { error };
          settle();
        },
      );
    };
    return {
      next: () =>
        new Promise<IteratorResult<T>>((resolve, reject) => {
          if (!started) begin();
          waiting = resolve;
          failed = reject;
          settle();
        }),
      return: (): Promise<IteratorResult<T>> => {
        // The consumer left the loop: stop the upstream now, and release a producer waiting to
        // hand over a chunk, so it sees the abort and ends (its finally blocks run).
        stop.abort(new AbortedError(undefined, 'The stream consumer stopped reading', 'consumer'));
        ended ??= {};
        if (slot !== undefined) {
          const { taken } = slot;
          slot = undefined;
          taken();
        }
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/**
 * A typed, immutable streaming unit of work: `(input, ctx) => stream of T`. Built with
 * {@link streamStep}; resilience methods give each primitive a defined meaning on a stream; `map`
 * transforms chunks and `collect` turns it back into a plain `Primitive`.
 *
 * @example
 * ```ts
 * const tokens = streamStep('tokens', async function* (prompt: string) { yield* prompt.split(' ') })
 *   .timeout({ firstChunkMs: 2_000, idleMs: 5_000 })
 *   .retry({ retries: 2 });
 * for await (const token of tokens.stream('hello streaming world')) process.stdout.write(token);
 * ```
 */
export class StreamPrimitive<I, T> {
  readonly name: string;
  readonly kind: string;
  /** @internal */
  readonly execStream: StreamExec<I, T>;

  /** @internal Use `streamStep()`. */
  constructor(name: string, kind: string, exec: StreamExec<I, T>) {
    this.name = name;
    this.kind = kind;
    this.execStream = exec;
    Object.freeze(this);
  }

  /**
   * Runs the stream as a workflow (a run with its context, span and run events) and returns it as a
   * {@link WeftStream}: subscribe to it, or `for await` over it. Nothing runs until then.
   */
  stream(input: I, options?: RunOptions): WeftStream<T> {
    return new WeftStream<T>((sink, stop) => {
      const runner = new Primitive<I, void>(this.name, 'stream', (value, ctx) => this.execStream(value, ctx, sink));
      // The consumer's stop aborts the run's scope directly; a caller's signal works as in run().
      return runner.startRun(input, options?.workflow === undefined ? { ...options, workflow: this.name } : options, { stop });
    });
  }

  /** Maps every chunk. `fn` runs in the run's context; a throw ends the stream with that error. */
  map<U>(fn: (chunk: T, index: number) => U): StreamPrimitive<I, U> {
    const inner = this.execStream;
    return new StreamPrimitive<I, U>(this.name, 'stream.map', (input, ctx, sink) => {
      let i = 0;
      return inner(input, ctx, { next: (chunk) => sink.next(fn(chunk, i++)) });
    });
  }

  /** A plain primitive whose output is every chunk, in order (for callers that do not stream). */
  collect(): Primitive<I, T[]>;
  /** A plain primitive whose output folds every chunk with `reducer`, from `initial`. */
  collect<A>(reducer: (acc: A, chunk: T) => A, initial: A): Primitive<I, A>;
  collect<A>(reducer?: (acc: A, chunk: T) => A, initial?: A): Primitive<I, unknown> {
    const inner = this.execStream;
    return new Primitive<I, unknown>(this.name, 'stream.collect', async (input, ctx) => {
      if (reducer === undefined) {
        const all: T[] = [];
        await inner(input, ctx, { next: (chunk) => void all.push(chunk) });
        return all;
      }
      let acc = initial as A;
      await inner(input, ctx, { next: (chunk) => void (acc = reducer(acc, chunk)) });
      return acc;
    });
  }

  /**
   * Retries a stream that fails before its first chunk, with exponential backoff. A failure after
   * chunks were delivered is never retried (that would repeat them): it ends the stream with
   * `StreamInterruptedError`.
   */
  retry(options?: StreamRetryOptions): StreamPrimitive<I, T> {
    const o = optionsObject('options', options, ['retries', 'minDelay', 'maxDelay', 'retryOn'], 'stream retry');
    const retries = number('retries', o.retries, 2, { min: 0, integer: true });
    const minDelay = number('minDelay', o.minDelay, 100, { min: 0 });
    const maxDelay = number('maxDelay', o.maxDelay, 5_000, { min: 0 });
    const retryOn = optionalFunction<(e: Error, attempt: number) => boolean>('retryOn', o.retryOn) ?? ((e) => classifyError(e).retryable);
    const inner = this.execStream;
    const name = this.name;
    return new StreamPrimitive<I, T>(name, 'stream.retry', async (input, ctx, sink) => {
      for (let attempt = 1; ; attempt++) {
        const counted = counting(sink);
        try {
          await inner(input, attempt === 1 ? ctx : ctx.with({ attempt }), counted);
          return;
        } catch (thrown) {
          const error = toError(thrown);
          if (counted.delivered > 0) throw interrupted(counted.delivered, error);
          if (attempt > retries || ctx.scope.aborted || !retryOn(error, attempt)) throw error;
          if (listening()) emit(ctx, 'retry', { type: 'retry.scheduled', attempt, delayMs: Math.min(maxDelay, minDelay * 2 ** (attempt - 1)), error, hinted: false, final: false });
          await sleep(Math.min(maxDelay, minDelay * 2 ** (attempt - 1)), ctx.scope);
        }
      }
    });
  }

  /**
   * Answers with the first alternative whose stream starts, when this one fails before its first
   * chunk. A failure after chunks were delivered ends the stream with `StreamInterruptedError`.
   */
  fallback(...alternatives: ReadonlyArray<StreamPrimitive<I, T>>): StreamPrimitive<I, T> {
    if (alternatives.length === 0 || alternatives.some((a) => !(a instanceof StreamPrimitive))) fail('alternatives', 'one or more stream primitives', alternatives);
    const chain = [this, ...alternatives].map((p) => p.execStream);
    const names = [this, ...alternatives].map((p) => p.name);
    return new StreamPrimitive<I, T>(this.name, 'stream.fallback', async (input, ctx, sink) => {
      let last: Error | undefined;
      const errors: Error[] = [];
      for (let i = 0; i < chain.length; i++) {
        const counted = counting(sink);
        try {
          await chain[i]!(input, ctx, counted);
          // Reported on the primary's step, as the fallback primitive does.
          if (i > 0 && listening()) emit(ctx, 'fallback', { type: 'fallback.served', step: names[0]!, index: i, served: names[i]!, errors });
          return;
        } catch (thrown) {
          last = toError(thrown);
          errors.push(last);
          if (counted.delivered > 0) throw interrupted(counted.delivered, last);
          if (ctx.scope.aborted) throw last;
        }
      }
      throw last!;
    });
  }

  /**
   * Bounds the time to the first chunk, the gap between chunks and the whole stream; the one that
   * fires aborts the stream (its step's signal) and ends it with `TimeoutError`.
   */
  timeout(options: StreamTimeoutOptions): StreamPrimitive<I, T> {
    const o = optionsObject('options', options, ['firstChunkMs', 'idleMs', 'totalMs'], 'stream timeout');
    const firstChunkMs = optionalNumber('firstChunkMs', o.firstChunkMs, { min: 1, max: 2_147_483_647 });
    const idleMs = optionalNumber('idleMs', o.idleMs, { min: 1, max: 2_147_483_647 });
    const totalMs = optionalNumber('totalMs', o.totalMs, { min: 1, max: 2_147_483_647 });
    if (firstChunkMs === undefined && idleMs === undefined && totalMs === undefined) fail('options', 'at least one of firstChunkMs, idleMs, totalMs', options);
    const inner = this.execStream;
    return new StreamPrimitive<I, T>(this.name, 'stream.timeout', async (input, ctx, sink) => {
      const clock = currentClock();
      const scope = new Scope(ctx.scope);
      let gap: TimerHandle | undefined;
      let total: TimerHandle | undefined;
      let delivered = 0;
      // The gap timer is not re-armed per chunk (a timer per chunk would cost more than the chunk):
      // chunks stamp the time, and the timer, when it fires, waits out what is left of the gap.
      let lastAt = clock.now();
      let waitingForConsumer = false;
      const expire = (limit: number, which: string): void => {
        if (listening()) emit(ctx, 'timeout', { type: 'timeout.expired', timeoutMs: limit, configuredMs: limit, clampedByDeadline: false, mayStillBeRunning: false });
        scope.abort(new TimeoutError(limit, `The stream ${which} took over ${limit} ms`));
      };
      const onGap = (): void => {
        gap = undefined;
        if (delivered === 0) return expire(firstChunkMs!, 'to its first chunk');
        if (idleMs === undefined) return;
        const left = lastAt + idleMs - clock.now();
        // The consumer's own pace is not the upstream's idleness.
        if (left > 0 || waitingForConsumer) gap = clock.setTimeout(onGap, Math.max(left, 1));
        else expire(idleMs, 'between chunks');
      };
      const firstLimit = firstChunkMs ?? idleMs;
      if (firstLimit !== undefined) {
        gap = clock.setTimeout(() => {
          gap = undefined;
          if (delivered === 0) expire(firstLimit, firstChunkMs !== undefined ? 'to its first chunk' : 'between chunks');
          else onGap();
        }, firstLimit);
      }
      if (totalMs !== undefined) total = clock.setTimeout(() => expire(totalMs, 'in all'), totalMs);
      const deadline = totalMs === undefined ? ctx.deadline : Math.min(ctx.deadline ?? Infinity, clock.now() + totalMs);
      const afterConsumer = (): void => {
        waitingForConsumer = false;
        lastAt = clock.now();
      };
      try {
        await raceAbort(
          inner(input, ctx.with({ scope, deadline }), {
            next: (chunk) => {
              delivered++;
              if (delivered === 1 && idleMs === undefined && gap !== undefined) {
                clock.clearTimeout(gap);
                gap = undefined;
              } else if (delivered === 1 && idleMs !== undefined && firstChunkMs !== undefined && gap !== undefined) {
                // From the first chunk on, the gap limit applies.
                clock.clearTimeout(gap);
                gap = clock.setTimeout(onGap, idleMs);
              }
              waitingForConsumer = true;
              const pending = sink.next(chunk);
              if (pending === undefined) {
                afterConsumer();
                return;
              }
              return pending.then(afterConsumer);
            },
          }),
          scope,
        );
      } catch (error) {
        throw delivered > 0 ? interrupted(delivered, toError(error)) : error;
      } finally {
        if (gap !== undefined) clock.clearTimeout(gap);
        if (total !== undefined) clock.clearTimeout(total);
        scope.dispose();
      }
    });
  }

  /**
   * Starts a second stream when the first has delivered no chunk after `delayMs`; the first to
   * deliver a chunk wins and the other is aborted. A failure before any chunk starts the other at once.
   */
  hedge(options: StreamHedgeOptions): StreamPrimitive<I, T> {
    const o = optionsObject('options', options, ['delayMs'], 'stream hedge');
    const delayMs = number('delayMs', o.delayMs, 0, { min: 0, max: 2_147_483_647 });
    const inner = this.execStream;
    return new StreamPrimitive<I, T>(this.name, 'stream.hedge', (input, ctx, sink) =>
      new Promise<void>((resolve, reject) => {
        const clock = currentClock();
        const attempts: Scope[] = [];
        let winner: number | undefined;
        let failures = 0;
        let started = 0;
        let lastError: unknown;
        let timer: TimerHandle | undefined;
        const launch = (): void => {
          const n = started++;
          const scope = new Scope(ctx.scope);
          attempts.push(scope);
          if (n > 0 && listening()) emit(ctx, 'hedge', { type: 'hedge.started', attempt: n + 1, delayMs: failures === 0 ? delayMs : 0, trigger: failures === 0 ? 'delay' : 'error' });
          inner(input, ctx.with({ scope, attempt: n + 1 }), {
            next: (chunk) => {
              if (winner === undefined) {
                winner = n;
                if (timer !== undefined) clock.clearTimeout(timer);
                for (const [i, other] of attempts.entries()) if (i !== n) other.abort(new AbortedError(undefined, 'Another hedged stream delivered first', 'hedge'));
                if (listening()) emit(ctx, 'hedge', { type: 'hedge.won', attempt: n + 1, hedged: started > 1 });
              }
              if (winner !== n) throw new AbortedError(undefined, 'Another hedged stream delivered first', 'hedge');
              return sink.next(chunk);
            },
          }).then(
            () => {
              if (winner === undefined || winner === n) {
                cleanup();
                resolve();
              }
            },
            (error: unknown) => {
              if (winner === n) {
                cleanup();
                return reject(error);
              }
              if (winner !== undefined) return;
              failures++;
              lastError = error;
              if (started === 1 && !ctx.scope.aborted) {
                if (timer !== undefined) clock.clearTimeout(timer);
                return launch();
              }
              if (failures === started) {
                cleanup();
                reject(lastError);
              }
            },
          );
        };
        const cleanup = (): void => {
          if (timer !== undefined) clock.clearTimeout(timer);
          for (const s of attempts) s.dispose();
        };
        launch();
        timer = clock.setTimeout(() => {
          timer = undefined;
          if (winner === undefined && started === 1) launch();
        }, delayMs);
      }),
    );
  }

  /**
   * Guards the stream with a circuit breaker (a `CircuitBreaker` shared across primitives, or built
   * from options): a stream that fails, mid-stream included, counts as a failure; one that
   * completes, as a success. An open breaker refuses before the stream starts.
   */
  circuitBreaker(breaker: { execute<X, Y>(inner: (input: X, ctx: Ctx) => Promise<Y>, input: X, ctx: Ctx, step: string): Promise<Y> }): StreamPrimitive<I, T> {
    if (typeof (breaker as { execute?: unknown } | undefined)?.execute !== 'function') fail('breaker', 'a CircuitBreaker', breaker);
    const inner = this.execStream;
    const name = this.name;
    return new StreamPrimitive<I, T>(name, 'stream.circuitBreaker', (input, ctx, sink) => breaker.execute((value: I, c: Ctx) => inner(value, c, sink), input, ctx, name));
  }

  /**
   * Caches completed streams: on a hit the stored chunks are replayed as a stream (the upstream is
   * not called); on a miss the chunks are forwarded as they come and stored once the stream
   * completes. A stream that fails or is aborted is never stored. Takes the options of `cache()`
   * (namespace, TTLs, store, key, ...) or a shared `Cache` of chunk arrays.
   */
  cache(options: CacheOptions<I, T[]> | Cache<I, T[]>): StreamPrimitive<I, T> {
    const handle = options instanceof Cache ? options : new Cache<I, T[]>(options);
    const namespace = handle.namespace;
    const inner = this.execStream;
    return new StreamPrimitive<I, T>(this.name, 'stream.cache', async (input, ctx, sink) => {
      const hit = await handle.get(input, ctx).catch(() => undefined);
      if (hit !== undefined) {
        if (listening()) emit(ctx, 'cache', { type: 'cache.request', cache: namespace, result: 'hit' });
        for (const chunk of hit) {
          if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
          await sink.next(chunk);
        }
        return;
      }
      if (listening()) emit(ctx, 'cache', { type: 'cache.request', cache: namespace, result: 'miss' });
      const chunks: T[] = [];
      await inner(input, ctx, {
        next: (chunk) => {
          chunks.push(chunk);
          return sink.next(chunk);
        },
      });
      // Only a stream that completed; a store failure costs the next caller a miss, nothing else.
      await handle.set(input, chunks, undefined, ctx).catch(noop);
    });
  }

  /**
   * Applies a plain primitive wrapper (a budget, a bulkhead, a rate limit) to the stream as a
   * whole: it acts before the stream starts and when it ends, so a budget reserves before the
   * first chunk and settles from what the stream recorded (`recordCost`), aborted streams included.
   *
   * @example
   * ```ts
   * const budgeted = tokens.around((p) => p.budget({ name: 'daily', window: { limit: 5, windowMs: 86_400_000 }, estimate: 0.01 }));
   * ```
   */
  around(wrap: (whole: Primitive<I, void>) => Primitive<I, void>): StreamPrimitive<I, T> {
    if (typeof wrap !== 'function') fail('wrap', 'a function (primitive) => primitive', wrap);
    const inner = this.execStream;
    // The sink travels in async context, so the wrapper sees the stream's own input.
    const sinks = new AsyncLocalStorage<Sink<T>>();
    const whole = new Primitive<I, void>(this.name, 'stream.whole', (input, ctx) => inner(input, ctx, sinks.getStore()!));
    const wrapped = wrap(whole);
    if (!(wrapped instanceof Primitive)) fail('wrap', 'a function returning a primitive', wrapped);
    return new StreamPrimitive<I, T>(this.name, 'stream.around', (input, ctx, sink) => sinks.run(sink, () => wrapped.exec(input, ctx)));
  }
}



/**
 * A streaming step: `fn` returns an async iterable or a subscribable (an rxjs `Observable`), and
 * the step pushes its chunks downstream as they come, pulling from an async iterable only as fast
 * as the consumer reads. Its `ctx.signal` aborts when the consumer unsubscribes or stops reading,
 * and the iterator is closed (`return()`), so an HTTP upstream's socket closes at once.
 *
 * Each call reports `stream.first_chunk` (with the time to it) and `stream.finished` (outcome,
 * chunks, tokens) events, and a `first_chunk` span event. A failure after chunks were delivered
 * becomes `StreamInterruptedError`.
 *
 * @example
 * ```ts
 * const echo = streamStep('echo', async function* (text: string, ctx) {
 *   for (const word of text.split(' ')) {
 *     ctx.throwIfAborted();
 *     yield word;
 *   }
 * });
 * const words = await echo.collect().run('one two three'); // ['one', 'two', 'three']
 * ```
 */
export function streamStep<I, T>(nameOrOptions: string | StreamStepOptions<T>, fn: StreamFn<I, T>): StreamPrimitive<I, T> {
  const o: Record<string, unknown> = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : optionsObject('options', nameOrOptions, ['name', 'tokens', 'highWaterMark'], 'streamStep');
  const name = primitiveName('name', o.name);
  const tokensOf = optionalFunction<(chunk: T) => number>('tokens', o.tokens);
  const highWaterMark = number('highWaterMark', o.highWaterMark, 1_000, { min: 1, integer: true });
  if (typeof fn !== 'function') fail('fn', 'a function returning an async iterable or an Observable', fn);
  return new StreamPrimitive<I, T>(name, 'stream', async (input, parent, sink) => {
    if (parent.scope.aborted) throw abortReasonError(parent.scope.reason);
    let ctx = parent.step === name ? parent : parent.with({ step: name });
    const traced = childSpan(ctx, name, { 'weft.step': name, 'weft.workflow': ctx.run.workflow, 'weft.correlation_id': ctx.run.correlationId, 'weft.attempt': ctx.attempt, 'weft.stream': true });
    ctx = traced.ctx;
    const span = traced.span;
    const watching = listening();
    const t0 = durationNow();
    let chunks = 0;
    let tokens = 0;
    let ttfc: number | undefined;
    const c = ctx;
    const deliver = (chunk: T): void | Promise<void> => {
      if (chunks === 0) {
        ttfc = durationNow() - t0;
        span?.addEvent('first_chunk', { 'weft.time_to_first_chunk_ms': ttfc });
        if (watching) emit(c, 'stream', { type: 'stream.first_chunk', timeToFirstChunkMs: ttfc, attempt: c.attempt });
      }
      chunks++;
      if (tokensOf) tokens += tokensOf(chunk);
      return sink.next(chunk);
    };
    const finish = (outcome: StreamOutcome, error?: Error): void => {
      if (span) {
        span.setAttribute('weft.stream.chunks', chunks);
        span.setAttribute('weft.stream.outcome', outcome);
        if (error) failSpan(span, error);
        endSpan(span);
      }
      if (watching) {
        emit(c, 'stream', {
          type: 'stream.finished',
          outcome,
          chunks,
          ...(tokensOf ? { tokens } : {}),
          durationMs: durationNow() - t0,
          ...(ttfc === undefined ? {} : { timeToFirstChunkMs: ttfc }),
          attempt: c.attempt,
          ...(error ? { error } : {}),
        });
      }
    };
    try {
      const call = (): StreamSource<T> | Promise<StreamSource<T>> => storage.run(c, fn, input, c);
      const source = await (span ? otelApi()!.context.with(c.otel!, call) : call());
      // In the step's context: the generator's body runs on each next(), so `currentContext()` and
      // `recordCost()` there (in a finally that charges for what was produced, say) see this step.
      await storage.run(c, pump, source, c, deliver, highWaterMark);
    } catch (thrown) {
      const error = toError(thrown);
      const aborted = c.scope.aborted && (isAbortedError(error) || isAbortedError(c.scope.reason) || error === c.scope.reason);
      finish(aborted ? 'aborted' : chunks === 0 ? 'failed_before_first_chunk' : 'failed_mid_stream', error);
      if (chunks > 0 && !aborted && !isStreamInterruptedError(error)) throw new StreamInterruptedError(chunks, error);
      throw error;
    }
    finish('completed');
  });
}

/**
 * A chain whose last step streams: `prefix` runs as usual (retries, timeouts and all), then its
 * output is the input of the stream.
 *
 * @example
 * ```ts
 * const answer = pipeStream(step('prompt', (q: string) => `Answer briefly: ${q}`), completionTokens);
 * for await (const token of answer.stream('why is the sky blue?')) process.stdout.write(token);
 * ```
 */
export function pipeStream<I, M, T>(prefix: Primitive<I, M>, stream: StreamPrimitive<M, T>): StreamPrimitive<I, T> {
  if (!(prefix instanceof Primitive)) fail('prefix', 'a primitive', prefix);
  if (!(stream instanceof StreamPrimitive)) fail('stream', 'a stream primitive', stream);
  const first = prefix.exec;
  const rest = stream.execStream;
  return new StreamPrimitive<I, T>(stream.name, 'stream.pipe', async (input, ctx, sink) => rest(await first(input, ctx), ctx, sink));
}

/**
 * Picks one of several streams per input: `select` names the route (from the input and the run
 * context), and that stream runs in this run, so budgets and spans around it see it.
 *
 * @example
 * ```ts
 * const byTier = routeStream((req: { tier: 'fast' | 'best' }) => req.tier, { fast: cheapTokens, best: goodTokens });
 * ```
 */
export function routeStream<I, T, K extends string>(select: (input: I, ctx: RunContext) => K, table: Readonly<Record<K, StreamPrimitive<I, T>>>, options?: { readonly name?: string }): StreamPrimitive<I, T> {
  if (typeof select !== 'function') fail('select', 'a function (input, ctx) => route name', select);
  if (typeof table !== 'object' || table === null || Object.values(table).length === 0 || Object.values(table).some((s) => !(s instanceof StreamPrimitive))) fail('table', 'an object of stream primitives', table);
  const o = optionsObject('options', options, ['name'], 'routeStream');
  const name = o.name === undefined ? 'route' : primitiveName('name', o.name);
  const keys = Object.keys(table);
  return new StreamPrimitive<I, T>(name, 'stream.route', (input, ctx, sink) => {
    const key = select(input, ctx);
    const chosen = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
    if (chosen === undefined) return Promise.reject(new RangeError(`No stream route ${JSON.stringify(String(key).slice(0, 64))}; routes: ${keys.join(', ')}`));
    return chosen.execStream(input, ctx, sink);
  });
}

/** Reads a source into `deliver`, one chunk at a time; closes an iterator the moment the scope aborts. */
async function pump<T>(source: StreamSource<T>, ctx: Ctx, deliver: (chunk: T) => void | Promise<void>, highWaterMark: number): Promise<void> {
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) {
    const it = (source as AsyncIterable<T>)[Symbol.asyncIterator]();
    let done = false;
    // Close the upstream at once on abort, not at its next chunk: its socket closes now.
    // Closed in the run's context, so what its `finally` records (a cost for the tokens produced) lands in this run.
    const close = (): Promise<unknown> => storage.run(ctx, () => Promise.resolve(it.return?.()).catch(noop));
    const off = ctx.scope.onAbort(() => {
      if (!done) void close();
    });
    try {
      // No race per chunk (it would cost a promise and a listener each): an abort closes the
      // iterator and aborts the step's signal, and the run itself settles at once on abort.
      for (;;) {
        const r = await it.next();
        if (r.done) {
          done = true;
          return;
        }
        const pending = deliver(r.value);
        if (pending !== undefined) await pending;
        if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
      }
    } catch (error) {
      if (!done) {
        done = true;
        await close();
      }
      throw error;
    } finally {
      off();
    }
  }
  if (source === null || typeof source !== 'object' || typeof (source as { subscribe?: unknown }).subscribe !== 'function') {
    throw new TypeError(`Expected the streaming step to return an async iterable or an Observable, got ${typeof source}`);
  }
  // A push source: bounded buffer, drained as fast as the consumer takes chunks.
  const buffer: T[] = [];
  let ended: { error?: unknown } | undefined;
  let wake: (() => void) | undefined;
  const subscription = source.subscribe({
    next: (value) => {
      if (ended) return;
      if (buffer.length >= highWaterMark) {
        ended = { error: new Error(`The stream produced more than ${highWaterMark} chunks ahead of its consumer (highWaterMark)`) };
      } else buffer.push(value);
      wake?.();
    },
    error: (error) => {
      ended ??= { error };
      wake?.();
    },
    complete: () => {
      ended ??= {};
      wake?.();
    },
  });
  const off = ctx.scope.onAbort(() => wake?.());
  try {
    for (;;) {
      if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
      if (buffer.length > 0) {
        await deliver(buffer.shift()!);
        continue;
      }
      if (ended) {
        if ('error' in ended) throw ended.error;
        return;
      }
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    off();
    subscription.unsubscribe();
  }
}

/** A sink that counts what it delivered. */
function counting<T>(sink: Sink<T>): Sink<T> & { delivered: number } {
  const counted = {
    delivered: 0,
    next: (chunk: T) => {
      counted.delivered++;
      return sink.next(chunk);
    },
  };
  return counted;
}

function interrupted(chunks: number, error: Error): Error {
  return isStreamInterruptedError(error) ? error : new StreamInterruptedError(chunks, error);
}

function noop(): void {}
