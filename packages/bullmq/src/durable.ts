import { EventEmitter } from 'node:events';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { classifyError, currentContext, isSagaConflictError, TimeoutError, toError, type Primitive } from '@weft/core';
import { fail, knownOptions, number, optionsObject } from '@weft/core/options';
import { errorFromJson, errorToJson, type ErrorJson } from '@weft/core/stores';
import { Queue, QueueEvents, Worker, type ConnectionOptions, type Job } from 'bullmq';

/** What travels in a job: the input, and the caller's correlation ID and W3C trace context. */
export interface DurableJobData<I> {
  readonly input: I;
  readonly meta: {
    readonly correlationId?: string;
    /** `traceparent` / `tracestate`, injected by the OpenTelemetry propagator of the enqueuing process. */
    readonly trace?: Readonly<Record<string, string>>;
    readonly enqueuedAt: number;
  };
}

/** How a job ended: the workflow's output, or the error that was its answer (a declined card), never retried. */
export type DurableJobResult<O> = { readonly ok: true; readonly output: O } | { readonly ok: false; readonly error: ErrorJson };

/** Options for {@link durable}. */
export interface DurableOptions {
  /** Redis for BullMQ: a `redis://` URL, ioredis options, or an ioredis `Redis` / `Cluster` instance. */
  readonly connection: string | ConnectionOptions;
  /** The queue's name. @default the primitive's name */
  readonly queue?: string;
  /**
   * BullMQ's key prefix. Its braces make it a Redis Cluster hash tag, so every key of every Weft
   * queue lands in one slot, as BullMQ's multi-key scripts need on a cluster.
   * @default '{weft}'
   */
  readonly prefix?: string;
  /** Attempts per job (the first included) before it goes to the failed set, the dead-letter queue. @default 3 */
  readonly attempts?: number;
  /** Base of the exponential backoff between attempts, in ms. @default 1_000 */
  readonly backoffMs?: number;
  /** How long a completed job (and its result) is kept: a repeated job ID within it returns that result. @default 86_400_000 */
  readonly keepCompletedMs?: number;
  /** How long a failed job is kept in the dead-letter queue. @default 604_800_000 */
  readonly keepFailedMs?: number;
  /**
   * Whether an error the workflow threw is its answer (recorded as the job's result, not retried,
   * not dead-lettered) rather than a failure of the job. For a saga, ask its log whether the
   * execution finished: then the error is its outcome, and running it again would only replay it.
   * @default errors `classifyError` calls permanent
   */
  readonly settle?: (error: Error, input: unknown) => boolean | Promise<boolean>;
}

/** Options for {@link Durable.run}. */
export interface DurableRunOptions {
  /** The job ID: a second job with the same ID is not added; its caller gets the first one's result. @default a random ID */
  readonly jobId?: string;
  /** How long to wait for the result. @default the current run's remaining time, else 30_000 */
  readonly timeoutMs?: number;
  /** Stops waiting (the job goes on). */
  readonly signal?: AbortSignal;
  /** The correlation ID carried to the worker. @default the current run's */
  readonly correlationId?: string;
}

/** Options for {@link Durable.worker}. */
export interface DurableWorkerOptions {
  /** Jobs run at once by this worker. @default 1 */
  readonly concurrency?: number;
  /** How long a job's lock lasts; the worker renews it at half. A worker that dies holds it at most this long. @default 30_000 */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (their worker died) and takes them over. @default 30_000 */
  readonly stalledIntervalMs?: number;
  /** How many times a job may stall before it fails for good. @default 3 */
  readonly maxStalledCount?: number;
}

/** A job in the dead-letter queue (BullMQ's failed set). */
export interface DeadLetter<I> {
  readonly jobId: string;
  readonly input: I;
  readonly correlationId: string | undefined;
  /** The last error's message, as BullMQ recorded it. */
  readonly error: string;
  readonly attempts: number;
  readonly failedAt: number | undefined;
}

/** What happened to a job, for metrics and logs: `retried` when an attempt failed and another is scheduled. */
export interface DurableJobEvent {
  readonly queue: string;
  readonly type: 'completed' | 'settled' | 'retried' | 'failed' | 'stalled';
  readonly jobId: string;
  /** From the attempt's start to its end. */
  readonly durationMs?: number;
}

/** A running worker. */
export interface DurableWorker {
  /** The BullMQ worker, for what this wrapper does not cover. */
  readonly worker: Worker;
  /**
   * Stops taking jobs and waits for the active ones to finish. After `timeoutMs` it stops without
   * them: their locks lapse and another worker's stalled check takes them over (a saga resumes
   * from its log).
   */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
}

/** Queue counts by state. */
export type DurableCounts = Readonly<Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed' | 'prioritized', number>>;

const DEFAULTS = {
  prefix: '{weft}',
  attempts: 3,
  backoffMs: 1_000,
  keepCompletedMs: 86_400_000,
  keepFailedMs: 604_800_000,
  runTimeoutMs: 30_000,
  concurrency: 1,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 3,
} as const;

/**
 * A Weft primitive run as durable jobs on BullMQ. BullMQ provides what a home-made queue would get
 * wrong: job IDs that dedupe, locks renewed while a job runs, stalled-job takeover when a worker
 * dies, attempts with backoff, and the failed set, used here as the dead-letter queue.
 *
 * @example
 * ```ts
 * const placeOrder = durable(orderSaga, { connection: process.env.REDIS_URL! });
 * placeOrder.worker({ concurrency: 8 });                 // in worker processes
 * const placed = await placeOrder.run(order, { jobId: order.orderId }); // in API processes
 * ```
 */
export class Durable<I, O> {
  /** The BullMQ queue. */
  readonly queue: Queue<DurableJobData<I>, DurableJobResult<O>>;
  readonly name: string;
  private readonly connection: ConnectionOptions;
  private readonly prefix: string;
  private readonly settle: (error: Error, input: unknown) => boolean | Promise<boolean>;
  private readonly attempts: number;
  private readonly workers = new Set<DurableWorker>();
  private readonly emitter = new EventEmitter();
  private queueEvents: QueueEvents | undefined;

  constructor(
    private readonly primitive: Primitive<I, O>,
    options: DurableOptions,
  ) {
    const o = optionsObject('options', options);
    knownOptions('durable', o, ['connection', 'queue', 'prefix', 'attempts', 'backoffMs', 'keepCompletedMs', 'keepFailedMs', 'settle']);
    if (typeof primitive?.run !== 'function') fail('primitive', 'a Weft primitive', primitive);
    this.connection = connectionOf(o.connection);
    this.name = o.queue === undefined ? primitive.name : queueName(o.queue);
    if (typeof o.prefix !== 'undefined' && (typeof o.prefix !== 'string' || !/^[\w{}:.-]{1,64}$/.test(o.prefix))) fail('prefix', 'a key prefix of 1-64 letters, digits, { } : . _ or -', o.prefix);
    this.prefix = o.prefix ?? DEFAULTS.prefix;
    this.attempts = number('attempts', o.attempts, DEFAULTS.attempts, { min: 1, max: 1_000, integer: true });
    const backoffMs = number('backoffMs', o.backoffMs, DEFAULTS.backoffMs, { min: 0, integer: true });
    const keepCompletedMs = number('keepCompletedMs', o.keepCompletedMs, DEFAULTS.keepCompletedMs, { min: 1_000, integer: true });
    const keepFailedMs = number('keepFailedMs', o.keepFailedMs, DEFAULTS.keepFailedMs, { min: 1_000, integer: true });
    if (o.settle !== undefined && typeof o.settle !== 'function') fail('settle', 'a function (error, input) => boolean', o.settle);
    this.settle = (o.settle as DurableOptions['settle']) ?? ((e) => classifyError(e).class === 'permanent');
    this.queue = new Queue(this.name, {
      connection: this.connection,
      prefix: this.prefix,
      defaultJobOptions: {
        attempts: this.attempts,
        backoff: { type: 'exponential', delay: backoffMs },
        removeOnComplete: { age: Math.ceil(keepCompletedMs / 1_000) },
        removeOnFail: { age: Math.ceil(keepFailedMs / 1_000) },
      },
    });
    // Errors surface on the calls that hit them; without a listener an emitter would throw.
    this.queue.on('error', noop);
  }

  /**
   * Adds a job; resolves with its ID. With a `jobId` already used (and still kept) no job is added.
   * The correlation ID and the trace context of the current run travel in the job.
   */
  async enqueue(input: I, options: Omit<DurableRunOptions, 'timeoutMs' | 'signal'> = {}): Promise<string> {
    const job = await this.queue.add(this.name, { input, meta: metaOf(options.correlationId) }, options.jobId === undefined ? {} : { jobId: jobIdOf(options.jobId) });
    return job.id!;
  }

  /**
   * Adds a job (or joins the one with the same `jobId`) and waits for its result within the
   * caller's deadline: the workflow's output, or the error that was its answer, rebuilt with its
   * name, message and code. A job that failed for good rejects with its last error's message.
   * When the wait times out it rejects with `TimeoutError`; the job goes on.
   */
  async run(input: I, options: DurableRunOptions = {}): Promise<O> {
    const ctx = currentContext();
    const timeoutMs = options.timeoutMs ?? (ctx && Number.isFinite(ctx.remaining()) ? ctx.remaining() : DEFAULTS.runTimeoutMs);
    const events = await this.events();
    const job = await this.queue.add(this.name, { input, meta: metaOf(options.correlationId) }, options.jobId === undefined ? {} : { jobId: jobIdOf(options.jobId) });
    const waited = job.waitUntilFinished(events, Math.max(1, timeoutMs)).then(
      (result: DurableJobResult<O>) => result,
      (error: unknown) => {
        const e = toError(error);
        if (/timed out before finishing/.test(e.message)) throw new TimeoutError(timeoutMs, `Job ${job.id} of ${this.name} did not finish within ${timeoutMs} ms; it goes on`);
        throw e;
      },
    );
    const result = await (options.signal ? raceSignal(waited, options.signal) : waited);
    if (result.ok) return result.output;
    throw errorFromJson(result.error);
  }

  /** A job's state, and its result once it has one. */
  async status(jobId: string): Promise<{ readonly state: string; readonly result?: DurableJobResult<O>; readonly error?: string } | undefined> {
    const job = await this.queue.getJob(jobIdOf(jobId));
    if (!job) return undefined;
    const state = await job.getState();
    return { state, ...(job.returnvalue ? { result: job.returnvalue } : {}), ...(job.failedReason ? { error: job.failedReason } : {}) };
  }

  /** Starts a worker in this process that runs jobs through the primitive. */
  worker(options: DurableWorkerOptions = {}): DurableWorker {
    const o = optionsObject('options', options);
    knownOptions('durable.worker', o, ['concurrency', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount']);
    const worker = new Worker<DurableJobData<I>, DurableJobResult<O>>(this.name, (job, _token, signal) => this.process(job, signal), {
      connection: this.connection,
      prefix: this.prefix,
      concurrency: number('concurrency', o.concurrency, DEFAULTS.concurrency, { min: 1, max: 10_000, integer: true }),
      lockDuration: number('lockDurationMs', o.lockDurationMs, DEFAULTS.lockDurationMs, { min: 100, integer: true }),
      stalledInterval: number('stalledIntervalMs', o.stalledIntervalMs, DEFAULTS.stalledIntervalMs, { min: 100, integer: true }),
      maxStalledCount: number('maxStalledCount', o.maxStalledCount, DEFAULTS.maxStalledCount, { min: 0, integer: true }),
    });
    worker.on('error', noop);
    worker.on('completed', (job, result) => this.notify({ queue: this.name, type: result.ok ? 'completed' : 'settled', jobId: job.id!, durationMs: spanOf(job) }));
    worker.on('failed', (job) => {
      if (!job) return;
      const last = job.attemptsMade >= (job.opts.attempts ?? this.attempts);
      this.notify({ queue: this.name, type: last ? 'failed' : 'retried', jobId: job.id!, durationMs: spanOf(job) });
    });
    worker.on('stalled', (jobId) => this.notify({ queue: this.name, type: 'stalled', jobId }));
    const handle: DurableWorker = {
      worker,
      close: async ({ timeoutMs } = {}) => {
        this.workers.delete(handle);
        if (timeoutMs === undefined) return worker.close();
        if ((await within(worker.close(), timeoutMs)) === 'timeout') {
          // Redis unreachable, or jobs that outlast the timeout: drop the connection; the jobs' locks lapse.
          await within(worker.close(true), 1_000);
          await within(worker.disconnect(), 1_000);
        }
      },
    };
    this.workers.add(handle);
    return handle;
  }

  /** Listens to what happens to jobs run by this process's workers; returns the unsubscribe function. */
  onJob(listener: (event: DurableJobEvent) => void): () => void {
    this.emitter.on('job', listener);
    return () => this.emitter.off('job', listener);
  }

  /** Jobs by state, for metrics. */
  async counts(): Promise<DurableCounts> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    return { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, completed: c.completed ?? 0, prioritized: c.prioritized ?? 0 };
  }

  /** The dead-letter queue: jobs that failed for good, BullMQ's failed set. */
  readonly deadLetters = {
    /** Failed jobs, newest first. */
    list: async (start = 0, end = 99): Promise<DeadLetter<I>[]> => (await this.queue.getFailed(start, end)).map((j) => deadLetterOf(j as Job<DurableJobData<I>>)),
    /** One failed job, or undefined. */
    inspect: async (jobId: string): Promise<DeadLetter<I> | undefined> => {
      const job = (await this.queue.getJob(jobIdOf(jobId))) as Job<DurableJobData<I>> | undefined;
      return job && (await job.getState()) === 'failed' ? deadLetterOf(job) : undefined;
    },
    /** Runs a failed job again, with its ID and data, and a fresh set of attempts. */
    replay: async (jobId: string): Promise<void> => {
      const job = await this.queue.getJob(jobIdOf(jobId));
      if (!job) throw new Error(`No job ${JSON.stringify(jobId)} in queue ${this.name}`);
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    },
    /** Drops a failed job. */
    remove: async (jobId: string): Promise<void> => {
      await this.queue.remove(jobIdOf(jobId));
    },
  };

  /**
   * Closes this process's workers (waiting for their active jobs), the queue and its connections.
   * With `timeoutMs`, whatever has not closed by then is disconnected (a worker's jobs are then
   * taken over by another worker), so a shutdown never hangs on an unreachable Redis.
   */
  async close(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const { timeoutMs } = options;
    await Promise.all([...this.workers].map((w) => w.close(timeoutMs === undefined ? {} : { timeoutMs })));
    for (const part of [this.queueEvents, this.queue]) {
      if (part === undefined) continue;
      if (timeoutMs === undefined) await part.close();
      else if ((await within(part.close(), timeoutMs)) === 'timeout') await within(part.disconnect(), 1_000);
    }
  }

  private async events(): Promise<QueueEvents> {
    if (this.queueEvents === undefined) {
      this.queueEvents = new QueueEvents(this.name, { connection: this.connection, prefix: this.prefix });
      this.queueEvents.on('error', noop);
    }
    await this.queueEvents.waitUntilReady();
    return this.queueEvents;
  }

  private async process(job: Job<DurableJobData<I>, DurableJobResult<O>>, signal: AbortSignal | undefined): Promise<DurableJobResult<O>> {
    const { input, meta } = job.data;
    const parent = meta?.trace ? propagation.extract(ROOT_CONTEXT, meta.trace) : context.active();
    try {
      const output = await context.with(parent, () =>
        this.primitive.run(input, { ...(meta?.correlationId ? { correlationId: meta.correlationId } : {}), ...(signal ? { signal } : {}), attributes: { 'messaging.message.id': job.id ?? '', 'messaging.destination.name': this.name } }),
      );
      return { ok: true, output };
    } catch (thrown) {
      const error = answerOf(toError(thrown));
      // When the check itself fails (its store is down), the job is retried: nothing is lost.
      if (await Promise.resolve(this.settle(error, input)).catch(() => false)) return { ok: false, error: errorToJson(error) };
      // BullMQ retries it with backoff, then moves it to the failed set.
      throw error;
    }
  }

  private notify(event: DurableJobEvent): void {
    try {
      this.emitter.emit('job', event);
    } catch {
      // A listener's failure never fails a job.
    }
  }
}

/**
 * Runs `primitive` as durable jobs on BullMQ: see {@link Durable}.
 *
 * @example
 * ```ts
 * const summarize = durable(summarizeFlow, { connection: 'redis://127.0.0.1:6379', attempts: 5 });
 * ```
 */
export function durable<I, O>(primitive: Primitive<I, O>, options: DurableOptions): Durable<I, O> {
  return new Durable(primitive, options);
}

/** A saga that already finished answers a repeat with its recorded error; that error is the job's answer. */
function answerOf(error: Error): Error {
  if (isSagaConflictError(error) && (error.state === 'compensated' || error.state === 'compensation_failed') && error.cause instanceof Error) return error.cause;
  return error;
}

function metaOf(correlationId: string | undefined): DurableJobData<unknown>['meta'] {
  const trace: Record<string, string> = {};
  propagation.inject(context.active(), trace);
  const cid = correlationId ?? currentContext()?.correlationId;
  return { ...(cid ? { correlationId: cid } : {}), ...(Object.keys(trace).length > 0 ? { trace } : {}), enqueuedAt: Date.now() };
}

function deadLetterOf<I>(job: Job<DurableJobData<I>>): DeadLetter<I> {
  return { jobId: job.id!, input: job.data.input, correlationId: job.data.meta?.correlationId, error: job.failedReason, attempts: job.attemptsMade, failedAt: job.finishedOn };
}

function spanOf(job: Job): number | undefined {
  return job.processedOn !== undefined && job.finishedOn !== undefined ? job.finishedOn - job.processedOn : undefined;
}

function connectionOf(value: unknown): ConnectionOptions {
  if (typeof value === 'string') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      fail('connection', 'a redis:// URL, ioredis options or an ioredis instance', value);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') fail('connection', 'a redis:// or rediss:// URL', value);
    return {
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 6379,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      // BullMQ's workers block on Redis; ioredis must retry for ever rather than fail their commands.
      maxRetriesPerRequest: null,
    };
  }
  if (typeof value !== 'object' || value === null) fail('connection', 'a redis:// URL, ioredis options or an ioredis instance', value);
  return value;
}

function queueName(value: unknown): string {
  if (typeof value !== 'string' || !/^[\w.-]{1,100}$/.test(value)) fail('queue', 'a name of 1-100 letters, digits, _ . or -', value);
  return value;
}

function jobIdOf(value: unknown): string {
  // BullMQ refuses integer-like custom IDs and reserves ':'.
  if (typeof value !== 'string' || !/^[\w.-]{1,200}$/.test(value) || /^\d+$/.test(value)) fail('jobId', 'an ID of 1-200 letters, digits, _ . or -, not only digits', value);
  return value;
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(toError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(toError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/** Resolves with the promise's settlement, or 'timeout' after `ms`; never rejects, leaves no timer. */
async function within(promise: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(r, ms, 'timeout')));
  try {
    return await Promise.race([promise.then(() => 'done' as const, () => 'done' as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function noop(): void {}
