import { randomUUID } from '../internal/crypto.js';
import { currentClock, unrefTimer, type TimerHandle } from '../clock/clock.js';
import type { RunContext } from '../context/run-context.js';
import { CompensationError } from '../errors/compensation-error.js';
import { isSagaConflictError, SagaConflictError } from '../errors/saga-conflict-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { WeftError } from '../errors/weft-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { errorFromJson, errorToJson, type ErrorJson } from '../internal/error-json.js';
import { abortReasonError, storage, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { raceAbort } from '../internal/race.js';
import { Scope } from '../internal/scope.js';
import { sleep } from '../internal/sleep.js';
import { fail, number, optionalFunction, optionalNumber, optionsObject, primitiveName, shapeOf } from '../internal/validate-options.js';
import { callUser, Primitive, type Exec } from '../primitive.js';
import { step as makeStep, type StepFn } from '../step/step.js';
import { MemorySagaLog, type SagaEntry, type SagaLease, type SagaLog, type SagaRecord } from './saga-log.js';

/**
 * What a compensation receives: the step's input, its idempotency key, and what is known of its
 * outcome. `completed`: the step returned `output`. `unknown`: the step was called but never
 * reported back (it threw, timed out, was aborted, or its process died), so it may or may not
 * have taken effect: undo whatever the key did, if anything.
 */
export type CompensationArgs<I, O> = { readonly input: I; readonly idempotencyKey: string } & (
  | { readonly outcome: 'completed'; readonly output: O }
  | { readonly outcome: 'unknown'; readonly output: undefined }
);

/** A compensation written as a function. It gets the run's context, whose `signal` is the compensation phase's own. */
export type CompensateFn<I, O> = (args: CompensationArgs<I, O>, ctx: RunContext) => unknown;

/** How often a failing compensation is tried again before it counts as failed. */
export interface CompensationRetry {
  /** Extra attempts after the first. @default 0 */
  readonly retries?: number;
  /** Milliseconds to wait between attempts. @default 0 */
  readonly delayMs?: number;
}

/**
 * One step of a saga: a forward action and, optionally, the compensation that undoes it.
 *
 * Compensations must be idempotent (one may run again after a crash) and must tolerate "nothing
 * to undo": a step whose outcome is unknown is compensated too, by its idempotency key.
 *
 * @example
 * ```ts
 * const reserve: SagaStep<Order, Reservation> = {
 *   step: reserveStock,                                          // sends ctx.idempotencyKey
 *   compensate: ({ idempotencyKey }) => releaseByKey(idempotencyKey), // works for either outcome
 *   retry: { retries: 3, delayMs: 200 },
 * };
 * ```
 */
export interface SagaStep<I, O> {
  /** The forward action. A function needs a `name`. It reads its idempotency key from `ctx.idempotencyKey`. */
  readonly step: Primitive<I, O> | StepFn<I, O>;
  /**
   * Undoes the step; gets {@link CompensationArgs}. A primitive may carry its own policies
   * (`undo.retry({ retries: 5 })`). Steps without one are skipped when compensating.
   * @default undefined
   */
  readonly compensate?: Primitive<CompensationArgs<I, O>, unknown> | CompensateFn<I, O>;
  /** Retries for this step's compensation. @default the saga's `compensationRetry` */
  readonly retry?: CompensationRetry;
  /** The step's name in the saga log and events. Required when `step` is a function. @default the primitive's name */
  readonly name?: string;
}

/**
 * What a saga writes to its log. The log outlives the run (a durable log keeps it for days), so
 * map away what must not rest there: card numbers, API keys, personal data. An execution taken
 * over after a crash continues from what was persisted: keep there what later steps and
 * compensations need (a token, an ID, the last four digits), and nothing else.
 */
export interface SagaPersist<I> {
  /** Maps the saga's input before it is logged. @default identity */
  readonly input?: (input: I) => unknown;
  /** Maps each step's output before it is logged. @default identity */
  readonly output?: (output: unknown, step: string) => unknown;
}

/** Options for {@link saga}. */
export interface SagaOptions<I = unknown> {
  /**
   * The saga's name: its key in the log, and how takeover and `recoverSagas` match log records to
   * this definition, so keep it stable across deployments.
   * @default `saga:` and the step names joined with `>`
   */
  readonly name?: string;
  /** Where progress is recorded. @default a new {@link MemorySagaLog} for this saga */
  readonly log?: SagaLog;
  /**
   * Milliseconds the whole compensation phase may take. Compensations still running then are
   * abandoned, and those not yet started fail, with `TimeoutError`.
   * @default undefined (no limit)
   */
  readonly compensationTimeoutMs?: number;
  /** Retries for every compensation, unless a step sets its own `retry`. @default { retries: 0, delayMs: 0 } */
  readonly compensationRetry?: CompensationRetry;
  /**
   * The ID of each execution, e.g. an order ID. An ID runs once: starting it again returns the
   * recorded output, or throws `SagaConflictError` (running elsewhere, or it failed).
   * @default a random UUID
   */
  readonly id?: (input: I, ctx: RunContext) => string;
  /**
   * How long an execution's lease lasts. Its owner renews it every third of that while it runs;
   * once it lapses (the owner died), another instance may take the execution over.
   * @default 15_000
   */
  readonly leaseMs?: number;
  /** This process's name in lease owners (`<instance>/<random>`), e.g. a pod name. @default `<pid>-<random>` */
  readonly instance?: string;
  /** What is logged of the input and of each output. @default everything */
  readonly persist?: SagaPersist<I>;
}

/** Options for {@link recoverSagas} and {@link superviseSagas}. */
export interface RecoverOptions {
  /** The log to read. @default the saga's own log */
  readonly log?: SagaLog;
  /**
   * Leave executions whose last entry is younger than this to their own retry: a job engine that
   * re-runs a stalled job with the same execution ID resumes it forward, which recovery would undo
   * instead. Live executions are never taken, whatever this says: their leases protect them.
   * @default 0
   */
  readonly olderThanMs?: number;
}

/** Options for {@link superviseSagas}. */
export interface SuperviseOptions extends RecoverOptions {
  /** Milliseconds between scans of the log. @default the saga's `leaseMs` */
  readonly intervalMs?: number;
  /** Called with what each scan did (only scans that did something). @default undefined */
  readonly onRecovery?: (recoveries: ReadonlyArray<SagaRecovery>) => void;
  /** Called when a scan fails (the log is unreachable); the next scan tries again. @default undefined */
  readonly onError?: (error: Error) => void;
}

/** A running {@link superviseSagas} loop. */
export interface SagaSupervisor {
  /** Stops scanning and waits for a scan in progress to end. */
  stop(): Promise<void>;
}

/** What `recoverSagas` did with one interrupted execution. */
export interface SagaRecovery {
  readonly sagaId: string;
  /** `unrecoverable`: the log does not match the saga's definition; nothing ran and the log is left as it was. */
  readonly outcome: 'compensated' | 'compensation_failed' | 'unrecoverable';
  /** Compensation failures (and log write failures), or why the record is unrecoverable. */
  readonly errors: ReadonlyArray<unknown>;
}

const DEFAULTS = {
  compensationRetry: { retries: 0, delayMs: 0 },
  leaseMs: 15_000,
} satisfies Required<Pick<SagaOptions, 'compensationRetry' | 'leaseMs'>>;

const RECOVER_DEFAULTS = { olderThanMs: 0 } satisfies Required<Pick<RecoverOptions, 'olderThanMs'>>;

interface CompiledStep {
  readonly name: string;
  readonly exec: Exec<unknown, unknown>;
  readonly compensate: Exec<CompensationArgs<unknown, unknown>, unknown> | undefined;
  readonly retries: number;
  readonly delayMs: number;
}

interface Definition {
  readonly name: string;
  readonly steps: ReadonlyArray<CompiledStep>;
  readonly log: SagaLog;
  readonly timeoutMs: number | undefined;
  readonly leaseMs: number;
  readonly instance: string;
}

/** A step to undo: one that completed, or one whose call never reported back. */
interface Undo {
  readonly index: number;
  readonly input: unknown;
  readonly output: unknown;
  readonly outcome: 'completed' | 'unknown';
  readonly key: string;
}

/** Definitions of the saga primitives made here, for `recoverSagas`. */
const definitions = new WeakMap<object, Definition>();

let processInstance: string | undefined;

/**
 * Runs steps in order, each taking the previous step's output (a typed chain, like `sequence`),
 * with every step written ahead to a {@link SagaLog} so that nothing is lost on a crash:
 *
 * - **Write-ahead, with idempotency keys.** Before a step is called its intent is logged with a key
 *   stable across retries, takeovers and recovery (`ctx.idempotencyKey`); pass it to remote
 *   services. When a step fails, or the run is aborted or times out, the saga compensates in
 *   reverse order the steps that completed and the step whose outcome is unknown (called, never
 *   reported back), each once: compensations must be idempotent and tolerate "nothing to undo".
 * - **Leases.** A running execution holds a lease (`leaseMs`) that it renews; every log write is
 *   fenced by it. When its process dies the lease lapses, and the execution is taken over: by
 *   the next `run()` with the same ID (a job engine re-running the job), which resumes it forward
 *   from the log, re-calling the unknown step with the same key, or goes on compensating if it was
 *   compensating; or by {@link superviseSagas} / {@link recoverSagas}, which compensate it.
 * - **Exactly once per ID.** Starting an execution ID that exists never runs it again: a completed
 *   one returns its recorded output; one running elsewhere, or one that failed, throws
 *   `SagaConflictError`.
 *
 * Compensations run in a fresh scope that the run's abort does not reach, bounded by
 * `compensationTimeoutMs`, each retried per its `retry`. When every compensation succeeds, the
 * saga rethrows the original error; when any fails, it throws `CompensationError` whose `cause`
 * is the original error and whose `errors` are every failure, in the order they happened.
 * Events: `saga.compensation` per compensation, `saga.takeover`, `saga.finished` per execution.
 *
 * @example
 * ```ts
 * const bookTrip = saga(
 *   [
 *     { step: reserveFlight, compensate: cancelFlight },
 *     { step: reserveHotel, compensate: ({ idempotencyKey }) => hotels.cancelByKey(idempotencyKey), retry: { retries: 3, delayMs: 500 } },
 *     { step: chargeCard, compensate: refund },
 *   ],
 *   { name: 'book_trip', id: (trip) => trip.id, log: redisSagaLog, compensationTimeoutMs: 30_000 },
 * );
 * await bookTrip.run(request);
 * ```
 */
export function saga<A, B>(steps: readonly [SagaStep<A, B>], options?: SagaOptions<A>): Primitive<A, B>;
export function saga<A, B, C>(steps: readonly [SagaStep<A, B>, SagaStep<B, C>], options?: SagaOptions<A>): Primitive<A, C>;
export function saga<A, B, C, D>(steps: readonly [SagaStep<A, B>, SagaStep<B, C>, SagaStep<C, D>], options?: SagaOptions<A>): Primitive<A, D>;
export function saga<A, B, C, D, E>(steps: readonly [SagaStep<A, B>, SagaStep<B, C>, SagaStep<C, D>, SagaStep<D, E>], options?: SagaOptions<A>): Primitive<A, E>;
export function saga<A, B, C, D, E, F>(
  steps: readonly [SagaStep<A, B>, SagaStep<B, C>, SagaStep<C, D>, SagaStep<D, E>, SagaStep<E, F>],
  options?: SagaOptions<A>,
): Primitive<A, F>;
export function saga<A, B, C, D, E, F, G>(
  steps: readonly [SagaStep<A, B>, SagaStep<B, C>, SagaStep<C, D>, SagaStep<D, E>, SagaStep<E, F>, SagaStep<F, G>],
  options?: SagaOptions<A>,
): Primitive<A, G>;
export function saga(steps: ReadonlyArray<SagaStep<unknown, unknown>>, options?: SagaOptions<unknown>): Primitive<unknown, unknown>;
export function saga(steps: ReadonlyArray<SagaStep<unknown, unknown>>, options?: SagaOptions<unknown>): Primitive<unknown, unknown> {
  const o = optionsObject('options', options, ['name', 'log', 'compensationTimeoutMs', 'compensationRetry', 'id', 'leaseMs', 'instance', 'persist'], 'saga');
  if (!Array.isArray(steps) || steps.length === 0) fail('steps', 'a non-empty array of { step, compensate? }', steps);
  const sagaRetry = checkRetry('compensationRetry', o.compensationRetry, DEFAULTS.compensationRetry);
  const compiled = (steps as ReadonlyArray<unknown>).map((s, i) => compileStep(s, i, sagaRetry));
  const name = o.name === undefined ? `saga:${compiled.map((s) => s.name).join('>')}`.slice(0, 100) : primitiveName('name', o.name);
  const log = checkLog('log', o.log) ?? new MemorySagaLog();
  const timeoutMs = optionalNumber('compensationTimeoutMs', o.compensationTimeoutMs, { min: 0, max: 2_147_483_647 });
  const leaseMs = number('leaseMs', o.leaseMs, DEFAULTS.leaseMs, { min: 10, max: 2_147_483_647 });
  const idFn = optionalFunction<(input: unknown, ctx: RunContext) => string>('id', o.id);
  if (o.instance !== undefined && (typeof o.instance !== 'string' || !/^[\w.:-]{1,100}$/.test(o.instance))) fail('instance', 'a name of 1-100 letters, digits, _ . : or -', o.instance);
  const instance = o.instance ?? (processInstance ??= `${process.pid}-${randomUUID().slice(0, 8)}`);
  const persist = checkPersist(o.persist);
  const def: Definition = { name, steps: compiled, log, timeoutMs, leaseMs, instance };

  const exec: Exec<unknown, unknown> = async (input, ctx) => {
    if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
    const sagaId = idFn ? checkId(idFn(input, ctx)) : randomUUID();
    const lease: SagaLease = { owner: `${instance}/${randomUUID().slice(0, 8)}`, leaseMs };
    const existing = await log.begin(name, sagaId, { type: 'started', at: currentClock().now(), input: persist.input(input), owner: lease.owner }, lease);
    if (existing === undefined) return drive(def, persist, sagaId, lease, ctx, { start: 0, value: input, done: [], pending: undefined }, false);

    // The ID exists: replay a finished execution, refuse a live one, take over an abandoned one.
    const finished = finishedEntry(existing);
    if (finished !== undefined) return replay(def, sagaId, finished);
    if (!(await log.claim(name, sagaId, lease))) throw new SagaConflictError(name, sagaId, 'running');
    const record = (await log.get(name, sagaId)) ?? existing;
    const parsed = parseRecord(def, record);
    if (parsed instanceof Error) throw parsed;
    if (parsed.finished !== undefined) return replay(def, sagaId, parsed.finished);
    const direction = parsed.compensating === undefined ? 'resume' : 'compensate';
    await log.append(name, sagaId, { type: 'takeover', at: currentClock().now(), owner: lease.owner, previous: parsed.owner, direction }, lease);
    if (listening()) emit(ctx, 'saga', { type: 'saga.takeover', step: name, saga: name, sagaId, direction });
    if (direction === 'compensate') {
      const original = errorFromJson(parsed.compensating!);
      const result = await compensateAll(def, sagaId, lease, parsed.undo, parsed.handled, original, ctx, true, parsed.priorErrors);
      throw result.outcome === 'compensation_failed' ? new CompensationError(original, result.errors) : original;
    }
    // Resume forward: the first step re-runs with the caller's input, later ones with the logged outputs.
    const start = parsed.done.length;
    const value = start === 0 ? input : parsed.done[start - 1]!.output;
    return drive(def, persist, sagaId, lease, ctx, { start, value, done: parsed.done, pending: undefined }, true);
  };
  const primitive = new Primitive(name, 'saga', exec);
  definitions.set(primitive, def);
  return primitive;
}

interface Progress {
  start: number;
  value: unknown;
  done: Undo[];
  pending: Undo | undefined;
}

/** Runs the forward steps from `progress.start`, holding the lease; compensates on failure. */
async function drive(def: Definition, persist: Required<SagaPersist<unknown>>, sagaId: string, lease: SagaLease, ctx: Ctx, progress: Progress, recovered: boolean): Promise<unknown> {
  const { name, steps, log } = def;
  const keeper = keepLease(def, sagaId, lease);
  const done = progress.done.slice();
  let pending: Undo | undefined;
  let value = progress.value;
  try {
    try {
      for (let i = progress.start; i < steps.length; i++) {
        if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
        const s = steps[i]!;
        const key = idempotencyKey(sagaId, i, s.name);
        await log.append(name, sagaId, { type: 'intent', at: currentClock().now(), index: i, step: s.name, key }, lease);
        pending = { index: i, input: value, output: undefined, outcome: 'unknown', key };
        const output = await s.exec(value, ctx.with({ idempotencyKey: key }));
        pending = undefined;
        done.push({ index: i, input: value, output, outcome: 'completed', key });
        value = output;
        await log.append(name, sagaId, { type: 'step', at: currentClock().now(), index: i, step: s.name, output: persist.output(output, s.name) }, lease);
      }
      // Aborted after the last step: the caller has already been told the run failed.
      if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
      await log.append(name, sagaId, { type: 'finished', at: currentClock().now(), outcome: 'completed', output: persist.output(value, name) }, lease);
    } catch (thrown) {
      const original = toError(thrown);
      // Another instance took the execution over (this one stalled past its lease): it decides.
      if (keeper.lost || (isSagaConflictError(original) && original.state === 'lease_lost')) throw new SagaConflictError(name, sagaId, 'lease_lost', original);
      const undo = pending === undefined ? done : [...done, pending];
      const logErrors: unknown[] = [];
      try {
        await log.append(name, sagaId, { type: 'compensating', at: currentClock().now(), error: errorToJson(original) }, lease);
      } catch (error) {
        if (isSagaConflictError(error)) throw new SagaConflictError(name, sagaId, 'lease_lost', original);
        logErrors.push(toError(error));
      }
      const result = await compensateAll(def, sagaId, lease, undo, NONE, original, ctx, recovered, logErrors);
      if (result.outcome === 'compensation_failed') throw new CompensationError(original, result.errors);
      throw original;
    }
  } finally {
    keeper.stop();
  }
  if (listening()) emit(ctx, 'saga', { type: 'saga.finished', step: name, saga: name, sagaId, outcome: 'completed', recovered });
  return value;
}

/** The outcome of a finished execution, again. */
function replay(def: Definition, sagaId: string, finished: Extract<SagaEntry, { type: 'finished' }>): unknown {
  if (finished.outcome === 'completed') return finished.output;
  throw new SagaConflictError(def.name, sagaId, finished.outcome, finished.error === undefined ? undefined : errorFromJson(finished.error));
}

function finishedEntry(record: SagaRecord): Extract<SagaEntry, { type: 'finished' }> | undefined {
  const last = record.entries[record.entries.length - 1];
  return last?.type === 'finished' ? last : undefined;
}

/** The idempotency key of step `index` of an execution: the same on every attempt, takeover and recovery. */
function idempotencyKey(sagaId: string, index: number, step: string): string {
  return `${sagaId}:${index}:${step}`;
}

/** Renews a lease every third of its length until stopped; `lost` once another owner holds it. */
function keepLease(def: Definition, sagaId: string, lease: SagaLease): { readonly lost: boolean; stop(): void } {
  const clock = currentClock();
  let timer: TimerHandle | undefined;
  let stopped = false;
  const state = {
    lost: false,
    stop(): void {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
  const schedule = (): void => {
    timer = clock.setTimeout(renew, Math.max(1, Math.floor(lease.leaseMs / 3)));
    unrefTimer(timer);
  };
  const renew = (): void => {
    timer = undefined;
    def.log.claim(def.name, sagaId, lease).then(
      (held) => {
        if (!held) state.lost = true;
        if (!stopped && held) schedule();
      },
      // The log is unreachable: nobody else can take the lease either; try again.
      () => {
        if (!stopped) schedule();
      },
    );
  };
  schedule();
  return state;
}

/**
 * Finds executions of a saga that started but never finished in its log and whose lease lapsed
 * (the process running them died), takes each over, and compensates it: the steps that
 * completed and the step whose outcome is unknown, in reverse order, each once. An execution that
 * was compensating goes on from where it stopped; compensations the log records are not run
 * again. Live executions are never touched: their owners renew their leases. A crash between a
 * compensation finishing and its log entry means that compensation runs again, so compensations
 * must be idempotent. Also available as `saga.recover`. Use {@link superviseSagas} to do this
 * continuously.
 *
 * Returns what this call did; executions held by someone else are left out.
 *
 * @example
 * ```ts
 * const bookTrip = saga([...steps], { name: 'book_trip', log: redisSagaLog });
 * for (const r of await recoverSagas(bookTrip)) if (r.outcome !== 'compensated') alert(r);
 * ```
 */
export async function recoverSagas(saga: Primitive<never, unknown>, options?: RecoverOptions): Promise<SagaRecovery[]> {
  const def = definitionOf(saga);
  const o = optionsObject('options', options, ['log', 'olderThanMs'], 'recoverSagas');
  return recoverWith(def, checkLog('log', o.log) ?? def.log, number('olderThanMs', o.olderThanMs, RECOVER_DEFAULTS.olderThanMs, { min: 0 }));
}

saga.recover = recoverSagas;

/**
 * Runs {@link recoverSagas} every `intervalMs` until stopped, so an execution whose process died
 * is compensated within about a lease and an interval, by whichever live instance scans first,
 * not only at the next start-up. The timer does not keep the process alive.
 *
 * @example
 * ```ts
 * const supervisor = superviseSagas(bookTrip, { onRecovery: (r) => log.warn({ r }, 'sagas recovered') });
 * process.on('SIGTERM', () => void supervisor.stop());
 * ```
 */
export function superviseSagas(saga: Primitive<never, unknown>, options?: SuperviseOptions): SagaSupervisor {
  const def = definitionOf(saga);
  const o = optionsObject('options', options, ['log', 'olderThanMs', 'intervalMs', 'onRecovery', 'onError'], 'superviseSagas');
  const log = checkLog('log', o.log) ?? def.log;
  const olderThanMs = number('olderThanMs', o.olderThanMs, RECOVER_DEFAULTS.olderThanMs, { min: 0 });
  const intervalMs = number('intervalMs', o.intervalMs, def.leaseMs, { min: 10, max: 2_147_483_647 });
  const onRecovery = optionalFunction<(r: ReadonlyArray<SagaRecovery>) => void>('onRecovery', o.onRecovery);
  const onError = optionalFunction<(e: Error) => void>('onError', o.onError);
  const clock = currentClock();
  let timer: TimerHandle | undefined;
  let stopped = false;
  let scanning: Promise<void> = Promise.resolve();
  const scan = (): void => {
    timer = undefined;
    scanning = recoverWith(def, log, olderThanMs).then(
      (r) => {
        if (r.length > 0) onRecovery?.(r);
      },
      (error: unknown) => onError?.(toError(error)),
    );
    void scanning.then(() => {
      if (stopped) return;
      timer = clock.setTimeout(scan, intervalMs);
      unrefTimer(timer);
    });
  };
  timer = clock.setTimeout(scan, intervalMs);
  unrefTimer(timer);
  return {
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      await scanning;
    },
  };
}

function definitionOf(saga: unknown): Definition {
  const def = typeof saga === 'object' && saga !== null ? definitions.get(saga) : undefined;
  if (def === undefined) fail('saga', 'a primitive made by saga()', saga);
  return def;
}

async function recoverWith(def: Definition, log: SagaLog, olderThanMs: number): Promise<SagaRecovery[]> {
  const d = log === def.log ? def : { ...def, log };
  const records = await log.unfinished(def.name);
  const results: SagaRecovery[] = [];
  const now = currentClock().now();
  for (const record of records) {
    const last = record.entries[record.entries.length - 1];
    if (olderThanMs > 0 && last !== undefined && now - last.at < olderThanMs) continue;
    const result = await recoverOne(d, record.sagaId);
    if (result) results.push(result);
  }
  return results;
}

const NONE: ReadonlySet<number> = new Set();

async function recoverOne(def: Definition, sagaId: string): Promise<SagaRecovery | undefined> {
  const lease: SagaLease = { owner: `${def.instance}/${randomUUID().slice(0, 8)}`, leaseMs: def.leaseMs };
  if (!(await def.log.claim(def.name, sagaId, lease))) return undefined;
  // Read after claiming: the record as its last owner left it.
  const record = await def.log.get(def.name, sagaId);
  if (record === undefined) return undefined;
  const parsed = parseRecord(def, record);
  if (parsed instanceof Error) return { sagaId, outcome: 'unrecoverable', errors: [parsed] };
  if (parsed.finished !== undefined) return undefined;
  const original = parsed.compensating
    ? errorFromJson(parsed.compensating)
    : new WeftError(`Saga ${def.name} execution ${JSON.stringify(sagaId.slice(0, 64))} was interrupted before it finished`);
  let result: CompensationResult | undefined;
  // A run gives the compensations a context (correlation, spans, events) as a live saga's would.
  const runner = new Primitive<undefined, void>(def.name, 'saga', async (_, ctx) => {
    await def.log.append(def.name, sagaId, { type: 'takeover', at: currentClock().now(), owner: lease.owner, previous: parsed.owner, direction: 'compensate' }, lease);
    if (listening()) emit(ctx, 'saga', { type: 'saga.takeover', step: def.name, saga: def.name, sagaId, direction: 'compensate' });
    result = await compensateAll(def, sagaId, lease, parsed.undo, parsed.handled, original, ctx, true, parsed.priorErrors);
  });
  try {
    await runner.run(undefined, { workflow: def.name });
  } catch (error) {
    return { sagaId, outcome: 'compensation_failed', errors: [toError(error)] };
  }
  if (result === undefined || result.outcome === 'lease_lost') return undefined;
  return { sagaId, outcome: result.outcome, errors: result.errors };
}

interface Parsed {
  /** Steps that completed, in order, with their logged outputs. */
  readonly done: Undo[];
  /** What to undo: `done` plus the step whose outcome is unknown. */
  readonly undo: Undo[];
  readonly handled: Set<number>;
  readonly priorErrors: unknown[];
  readonly compensating: ErrorJson | undefined;
  readonly finished: Extract<SagaEntry, { type: 'finished' }> | undefined;
  /** The last owner the log names. */
  readonly owner: string | undefined;
}

/** Reads a log record back, checking it against the definition. */
function parseRecord(def: Definition, record: SagaRecord): Parsed | Error {
  const entries = record.entries;
  const first = entries[0];
  if (first?.type !== 'started') return new TypeError(`Saga log for ${JSON.stringify(record.sagaId.slice(0, 64))} does not begin with a "started" entry`);
  const done: Undo[] = [];
  const handled = new Set<number>();
  const priorErrors: unknown[] = [];
  let intent: { index: number; key: string } | undefined;
  let compensating: ErrorJson | undefined;
  let finished: Parsed['finished'];
  let owner = first.owner;
  let value = first.input;
  for (let k = 1; k < entries.length; k++) {
    const e = entries[k]!;
    switch (e.type) {
      case 'intent': {
        const expected = def.steps[e.index];
        if (e.index !== done.length || expected?.name !== e.step) return mismatch(def, k, e.index, e.step, done.length);
        intent = { index: e.index, key: e.key };
        break;
      }
      case 'step': {
        const expected = def.steps[done.length];
        if (e.index !== done.length || expected?.name !== e.step) return mismatch(def, k, e.index, e.step, done.length);
        done.push({ index: e.index, input: value, output: e.output, outcome: 'completed', key: idempotencyKey(record.sagaId, e.index, e.step) });
        value = e.output;
        intent = undefined;
        break;
      }
      case 'takeover':
        owner = e.owner;
        break;
      case 'compensating':
        compensating = e.error;
        break;
      case 'compensated':
      case 'compensation_failed':
        handled.add(e.index);
        compensating ??= { name: 'WeftError', message: `Saga ${def.name} was compensating` };
        if (e.type === 'compensation_failed') priorErrors.push(new Error(`Compensation of ${e.step} failed before takeover: ${e.error}`));
        break;
      case 'finished':
        finished = e;
        break;
      default:
        break;
    }
  }
  const undo = done.slice();
  if (intent !== undefined) undo.push({ index: intent.index, input: value, output: undefined, outcome: 'unknown', key: intent.key });
  return { done, undo, handled, priorErrors, compensating, finished, owner };
}

function mismatch(def: Definition, k: number, index: number, step: string, at: number): TypeError {
  const expected = def.steps[at];
  return new TypeError(`Saga log entry ${k} records step ${index} "${step}", but saga ${def.name} has ${expected ? `"${expected.name}"` : 'no step'} at ${at}`);
}

type CompensationResult = { outcome: 'compensated' | 'compensation_failed' | 'lease_lost'; errors: unknown[] };

/**
 * Compensates in reverse order, each once, in a scope of its own, holding the lease. Records each
 * compensation and the end of the saga in the log, and reports them as events.
 */
async function compensateAll(
  def: Definition,
  sagaId: string,
  lease: SagaLease,
  undo: ReadonlyArray<Undo>,
  handled: ReadonlySet<number>,
  original: Error,
  ctx: Ctx,
  recovered: boolean,
  priorErrors: unknown[] = [],
): Promise<CompensationResult> {
  const { name, steps, timeoutMs, log } = def;
  const errors = priorErrors;
  const keeper = keepLease(def, sagaId, lease);
  // Not linked to the run's scope: compensations must run although the run was aborted.
  const scope = new Scope();
  const clock = currentClock();
  let timer: TimerHandle | undefined;
  if (timeoutMs !== undefined) {
    timer = clock.setTimeout(() => scope.abort(new TimeoutError(timeoutMs, `Compensation of saga ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
  }
  const cctx = ctx.with({ scope, deadline: timeoutMs === undefined ? undefined : clock.now() + timeoutMs });
  const watching = listening();
  let lost = false;
  try {
    for (let k = undo.length - 1; k >= 0 && !lost; k--) {
      const d = undo[k]!;
      const s = steps[d.index]!;
      if (s.compensate === undefined || handled.has(d.index)) continue;
      let failure: Error | undefined;
      const args = { input: d.input, output: d.output, outcome: d.outcome, idempotencyKey: d.key } as CompensationArgs<unknown, unknown>;
      try {
        await compensateOne(s, args, cctx.with({ idempotencyKey: `${d.key}:undo` }), scope, timer !== undefined);
      } catch (error) {
        failure = toError(error);
        errors.push(failure);
      }
      if (watching) emit(cctx, 'saga', { type: 'saga.compensation', step: name, saga: name, sagaId, compensatedStep: s.name, outcome: failure ? 'error' : 'success', error: failure });
      const entry: SagaEntry = failure
        ? { type: 'compensation_failed', at: currentClock().now(), index: d.index, step: s.name, error: failure.message, outcome: d.outcome }
        : { type: 'compensated', at: currentClock().now(), index: d.index, step: s.name, outcome: d.outcome };
      await log.append(name, sagaId, entry, lease).catch((error: unknown) => {
        if (isSagaConflictError(error)) lost = true;
        else errors.push(toError(error));
      });
    }
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    scope.dispose();
    keeper.stop();
  }
  // Another instance took over; it finishes the compensation and records the end.
  if (lost || keeper.lost) return { outcome: 'lease_lost', errors };
  const outcome = errors.length === 0 ? 'compensated' : 'compensation_failed';
  await log.append(name, sagaId, { type: 'finished', at: currentClock().now(), outcome, error: errorToJson(original) }, lease).catch((error: unknown) => errors.push(toError(error)));
  const final = errors.length === 0 ? 'compensated' : 'compensation_failed';
  if (watching) emit(ctx, 'saga', { type: 'saga.finished', step: name, saga: name, sagaId, outcome: final, error: original, recovered });
  return { outcome: final, errors };
}

/** Runs one compensation with its bounded retry loop. */
async function compensateOne(s: CompiledStep, args: CompensationArgs<unknown, unknown>, ctx: Ctx, scope: Scope, bounded: boolean): Promise<void> {
  const compensate = s.compensate!;
  let last: unknown;
  for (let attempt = 1; ; attempt++) {
    // Once the compensation phase times out, retries end with the last failure; later compensations report the timeout.
    if (scope.aborted) throw attempt === 1 ? abortReasonError(scope.reason) : last;
    try {
      const p = compensate(args, attempt === 1 ? ctx : ctx.with({ attempt }));
      await (bounded ? raceAbort(p, scope) : p);
      return;
    } catch (error) {
      if (attempt > s.retries) throw error;
      last = error;
    }
    if (s.delayMs > 0) await sleep(s.delayMs, scope).catch(noop);
  }
}

function compileStep(value: unknown, i: number, sagaRetry: Required<CompensationRetry>): CompiledStep {
  const at = `steps[${i}]`;
  if (typeof value !== 'object' || value === null) fail(at, 'a { step, compensate? } object', value);
  const s = value as Record<string, unknown>;
  let exec: Exec<unknown, unknown>;
  let name: string;
  if (s.step instanceof Primitive) {
    name = s.name === undefined ? s.step.name : primitiveName(`${at}.name`, s.name);
    exec = s.step.exec;
  } else if (typeof s.step === 'function') {
    if (s.name === undefined) fail(`${at}.name`, 'a name (required when `step` is a function)', s.name);
    name = primitiveName(`${at}.name`, s.name);
    exec = makeStep(name, s.step as StepFn<unknown, unknown>).exec;
  } else {
    fail(`${at}.step`, 'a primitive or a function', s.step);
  }
  let compensate: Exec<CompensationArgs<unknown, unknown>, unknown> | undefined;
  const c = s.compensate;
  if (c instanceof Primitive) compensate = c.exec as Exec<CompensationArgs<unknown, unknown>, unknown>;
  else if (typeof c === 'function') {
    const fn = c as CompensateFn<unknown, unknown>;
    compensate = (args, ctx) => callUser(() => storage.run(ctx, fn, args, ctx));
  } else if (c !== undefined) fail(`${at}.compensate`, 'a primitive or a function', c);
  const retry = s.retry === undefined ? sagaRetry : checkRetry(`${at}.retry`, s.retry, sagaRetry);
  return { name, exec, compensate, retries: retry.retries, delayMs: retry.delayMs };
}

function checkRetry(option: string, value: unknown, defaults: Required<CompensationRetry>): Required<CompensationRetry> {
  if (value === undefined) return defaults;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(option, 'a { retries?, delayMs? } object', value);
  const r = value as Record<string, unknown>;
  return {
    retries: number(`${option}.retries`, r.retries, defaults.retries, { min: 0, integer: true }),
    delayMs: number(`${option}.delayMs`, r.delayMs, defaults.delayMs, { min: 0, max: 2_147_483_647 }),
  };
}

function checkLog(option: string, value: unknown): SagaLog | undefined {
  if (value === undefined) return undefined;
  const l = shapeOf<SagaLog>(value);
  if (l === undefined || (['begin', 'append', 'claim', 'unfinished', 'get'] as const).some((m) => typeof l[m] !== 'function')) {
    fail(option, 'a SagaLog (begin, append, claim, unfinished, get)', value);
  }
  return l as SagaLog;
}

function checkPersist(value: unknown): Required<SagaPersist<unknown>> {
  if (value === undefined) return { input: identity, output: identity };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('persist', 'a { input?, output? } object of functions', value);
  const p = value as Record<string, unknown>;
  for (const k of Object.keys(p)) if (k !== 'input' && k !== 'output') fail(`persist.${k}`, 'absent (known: input, output)', p[k]);
  return {
    input: optionalFunction<(input: unknown) => unknown>('persist.input', p.input) ?? identity,
    output: optionalFunction<(output: unknown, step: string) => unknown>('persist.output', p.output) ?? identity,
  };
}

function identity<T>(value: T): T {
  return value;
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) fail('id', 'a function returning a string of 1-200 characters', id);
  return id;
}

function noop(): void {}
