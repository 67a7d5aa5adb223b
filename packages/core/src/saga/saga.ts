import { randomUUID } from '../internal/crypto.js';
import { currentClock, type TimerHandle } from '../clock/clock.js';
import type { RunContext } from '../context/run-context.js';
import { CompensationError } from '../errors/compensation-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { WeftError } from '../errors/weft-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError, storage, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { raceAbort } from '../internal/race.js';
import { Scope } from '../internal/scope.js';
import { sleep } from '../internal/sleep.js';
import { fail, number, optionalFunction, optionalNumber, optionsObject, primitiveName, shapeOf } from '../internal/validate-options.js';
import { callUser, Primitive, type Exec } from '../primitive.js';
import { step as makeStep, type StepFn } from '../step/step.js';
import { MemorySagaLog, type SagaEntry, type SagaLog, type SagaRecord } from './saga-log.js';

/** What a compensation receives: the input and the output of the step it undoes. */
export interface CompensationArgs<I, O> {
  readonly input: I;
  readonly output: O;
}

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
 * @example
 * ```ts
 * const reserve: SagaStep<Order, Reservation> = {
 *   step: reserveStock,                                   // Primitive<Order, Reservation> or a function
 *   compensate: ({ output }) => releaseStock(output.id),  // or a Primitive<{ input, output }, unknown>
 *   retry: { retries: 3, delayMs: 200 },
 * };
 * ```
 */
export interface SagaStep<I, O> {
  /** The forward action. A function needs a `name`. */
  readonly step: Primitive<I, O> | StepFn<I, O>;
  /**
   * Undoes the step; gets `{ input, output }`. A primitive may carry its own policies
   * (`undo.retry({ retries: 5 })`). Steps without one are skipped when compensating.
   * @default undefined
   */
  readonly compensate?: Primitive<CompensationArgs<I, O>, unknown> | CompensateFn<I, O>;
  /** Retries for this step's compensation. @default the saga's `compensationRetry` */
  readonly retry?: CompensationRetry;
  /** The step's name in the saga log and events. Required when `step` is a function. @default the primitive's name */
  readonly name?: string;
}

/** Options for {@link saga}. */
export interface SagaOptions<I = unknown> {
  /**
   * The saga's name: its key in the log, and how `recoverSagas` matches log records to this
   * definition, so keep it stable across deployments.
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
  /** The ID of each execution, e.g. an order ID. Must be unique per execution. @default a random UUID */
  readonly id?: (input: I, ctx: RunContext) => string;
  /** How long a claim to compensate an execution holds before another process may take over. @default 300_000 */
  readonly leaseMs?: number;
}

/** Options for {@link recoverSagas}. */
export interface RecoverOptions {
  /** The log to read. @default the saga's own log */
  readonly log?: SagaLog;
  /**
   * Only recover executions whose last entry is at least this old. Use it when sagas may still be
   * running in other processes: set it above the longest a saga can take. With 0, every unfinished
   * execution counts as interrupted, so call it at start-up, before new sagas start.
   * @default 0
   */
  readonly olderThanMs?: number;
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
  leaseMs: 300_000,
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
}

/** A step that completed, with what its compensation needs. */
interface Done {
  readonly index: number;
  readonly input: unknown;
  readonly output: unknown;
}

/** Definitions of the saga primitives made here, for `recoverSagas`. */
const definitions = new WeakMap<object, Definition>();

/**
 * Runs steps in order, each taking the previous step's output (a typed chain, like `sequence`).
 * When a step fails, or the run is aborted or times out, it runs the compensations of the steps
 * that completed, in reverse order, each once, with that step's `{ input, output }`. A step in
 * flight when the run aborts gets the aborted signal and is awaited: if it still completes, it is
 * compensated too (so steps should honour `ctx.signal`).
 *
 * Compensations run in a fresh scope that the run's abort does not reach, bounded by
 * `compensationTimeoutMs`, each retried per its `retry`. When every compensation succeeds, the
 * saga rethrows the original error; when any fails, it throws `CompensationError` whose `cause`
 * is the original error and whose `errors` are every failure, in the order they happened.
 *
 * Progress goes to a {@link SagaLog}, so executions interrupted by a crash can be compensated with
 * {@link recoverSagas}. Events: `saga.compensation` per compensation, `saga.finished` per execution.
 *
 * @example
 * ```ts
 * const bookTrip = saga(
 *   [
 *     { step: reserveFlight, compensate: cancelFlight },
 *     { step: reserveHotel, compensate: ({ output }) => hotels.cancel(output.bookingId), retry: { retries: 3, delayMs: 500 } },
 *     { step: chargeCard, compensate: refund },
 *   ],
 *   { name: 'book_trip', compensationTimeoutMs: 30_000 },
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
  const o = optionsObject('options', options, ['name', 'log', 'compensationTimeoutMs', 'compensationRetry', 'id', 'leaseMs'], 'saga');
  if (!Array.isArray(steps) || steps.length === 0) fail('steps', 'a non-empty array of { step, compensate? }', steps);
  const sagaRetry = checkRetry('compensationRetry', o.compensationRetry, DEFAULTS.compensationRetry);
  const compiled = (steps as ReadonlyArray<unknown>).map((s, i) => compileStep(s, i, sagaRetry));
  const name = o.name === undefined ? `saga:${compiled.map((s) => s.name).join('>')}`.slice(0, 100) : primitiveName('name', o.name);
  const log = checkLog('log', o.log) ?? new MemorySagaLog();
  const timeoutMs = optionalNumber('compensationTimeoutMs', o.compensationTimeoutMs, { min: 0, max: 2_147_483_647 });
  const leaseMs = number('leaseMs', o.leaseMs, DEFAULTS.leaseMs, { min: 1 });
  const idFn = optionalFunction<(input: unknown, ctx: RunContext) => string>('id', o.id);
  const def: Definition = { name, steps: compiled, log, timeoutMs, leaseMs };
  const n = compiled.length;

  const exec: Exec<unknown, unknown> = async (input, ctx) => {
    if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
    const sagaId = idFn ? checkId(idFn(input, ctx)) : randomUUID();
    await log.append(name, sagaId, { type: 'started', at: currentClock().now(), input });
    const done: Done[] = [];
    let value = input;
    try {
      for (let i = 0; i < n; i++) {
        if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
        const s = compiled[i]!;
        const output = await s.exec(value, ctx);
        done.push({ index: i, input: value, output });
        await log.append(name, sagaId, { type: 'step', at: currentClock().now(), index: i, step: s.name, output });
        value = output;
      }
      // Aborted after the last step: the caller has already been told the run failed.
      if (ctx.scope.aborted) throw abortReasonError(ctx.scope.reason);
      await log.append(name, sagaId, { type: 'finished', at: currentClock().now(), outcome: 'completed' });
    } catch (thrown) {
      const original = toError(thrown);
      const result = await compensateAll(def, log, sagaId, done, NONE, original, ctx, false);
      if (result.outcome === 'compensation_failed') throw new CompensationError(original, result.errors);
      // Compensated here, or claimed by a recovering process that compensates instead.
      throw original;
    }
    if (listening()) emit(ctx, 'saga', { type: 'saga.finished', step: name, saga: name, sagaId, outcome: 'completed', recovered: false });
    return value;
  };
  const primitive = new Primitive(name, 'saga', exec);
  definitions.set(primitive, def);
  return primitive;
}

/**
 * Finds executions of a saga that started but never finished in its log (the process crashed, or
 * was killed mid-saga) and compensates their completed steps, in reverse order. Each execution is
 * claimed in the log first, so concurrent recoverers, and a live saga, never compensate it twice;
 * steps whose compensation the log already records are not compensated again. An execution whose
 * steps all completed but whose end was never recorded is compensated too: its caller never got
 * the result. A crash between a compensation finishing and its log entry means that compensation
 * runs again, so compensations should be idempotent. Also available as `saga.recover`.
 *
 * Returns what this call did; executions claimed by someone else are left out.
 *
 * @example
 * ```ts
 * const bookTrip = saga([...steps], { name: 'book_trip', log: redisSagaLog });
 * // at start-up:
 * for (const r of await recoverSagas(bookTrip)) if (r.outcome !== 'compensated') alert(r);
 * ```
 */
export async function recoverSagas(saga: Primitive<never, unknown>, options?: RecoverOptions): Promise<SagaRecovery[]> {
  const def = typeof saga === 'object' && saga !== null ? definitions.get(saga) : undefined;
  if (def === undefined) fail('saga', 'a primitive made by saga()', saga);
  const o = optionsObject('options', options, ['log', 'olderThanMs'], 'recoverSagas');
  const log = checkLog('log', o.log) ?? def.log;
  const olderThanMs = number('olderThanMs', o.olderThanMs, RECOVER_DEFAULTS.olderThanMs, { min: 0 });
  const records = await log.unfinished(def.name);
  const results: SagaRecovery[] = [];
  const now = currentClock().now();
  for (const record of records) {
    const last = record.entries[record.entries.length - 1];
    if (olderThanMs > 0 && last !== undefined && now - last.at < olderThanMs) continue;
    const result = await recoverOne(def, log, record);
    if (result) results.push(result);
  }
  return results;
}

saga.recover = recoverSagas;

const NONE: ReadonlySet<number> = new Set();

async function recoverOne(def: Definition, log: SagaLog, record: SagaRecord): Promise<SagaRecovery | undefined> {
  const parsed = parseRecord(def, record);
  if (parsed instanceof Error) return { sagaId: record.sagaId, outcome: 'unrecoverable', errors: [parsed] };
  const original = new WeftError(`Saga ${def.name} execution ${JSON.stringify(record.sagaId.slice(0, 64))} was interrupted before it finished`);
  let result: CompensationResult | undefined;
  // A run gives the compensations a context (correlation, spans, events) as a live saga's would.
  const runner = new Primitive<undefined, void>(def.name, 'saga', async (_, ctx) => {
    result = await compensateAll(def, log, record.sagaId, parsed.done, parsed.handled, original, ctx, true, parsed.priorErrors);
  });
  await runner.run(undefined, { workflow: def.name });
  if (result === undefined || result.outcome === 'claimed_elsewhere') return undefined;
  return { sagaId: record.sagaId, outcome: result.outcome, errors: result.errors };
}

/** Reads a log record back into completed steps, checking it against the definition. */
function parseRecord(def: Definition, record: SagaRecord): { done: Done[]; handled: Set<number>; priorErrors: unknown[] } | Error {
  const entries = record.entries;
  const first = entries[0];
  if (first?.type !== 'started') return new TypeError(`Saga log for ${JSON.stringify(record.sagaId.slice(0, 64))} does not begin with a "started" entry`);
  const done: Done[] = [];
  const handled = new Set<number>();
  const priorErrors: unknown[] = [];
  let value = first.input;
  for (let k = 1; k < entries.length; k++) {
    const e = entries[k]!;
    if (e.type === 'step') {
      const expected = def.steps[done.length];
      if (e.index !== done.length || expected === undefined || expected.name !== e.step) {
        return new TypeError(`Saga log entry ${k} records step ${e.index} "${e.step}", but saga ${def.name} has ${expected ? `"${expected.name}"` : 'no step'} at ${done.length}`);
      }
      done.push({ index: e.index, input: value, output: e.output });
      value = e.output;
    } else if (e.type === 'compensated' || e.type === 'compensation_failed') {
      handled.add(e.index);
      if (e.type === 'compensation_failed') priorErrors.push(new Error(`Compensation of ${e.step} failed before recovery: ${e.error}`));
    }
  }
  return { done, handled, priorErrors };
}

type CompensationResult = { outcome: 'compensated' | 'compensation_failed' | 'claimed_elsewhere'; errors: unknown[] };

/**
 * Compensates completed steps in reverse order, each once, in a scope of its own. Records each
 * compensation and the end of the saga in the log, and reports them as events.
 */
async function compensateAll(
  def: Definition,
  log: SagaLog,
  sagaId: string,
  done: ReadonlyArray<Done>,
  handled: ReadonlySet<number>,
  original: Error,
  ctx: Ctx,
  recovered: boolean,
  priorErrors: unknown[] = [],
): Promise<CompensationResult> {
  const { name, steps, timeoutMs } = def;
  const errors = priorErrors;
  try {
    if (!(await log.claim(name, sagaId, randomUUID(), def.leaseMs))) return { outcome: 'claimed_elsewhere', errors };
  } catch (error) {
    // Without the log we cannot coordinate. A live saga owns its execution, so it goes on;
    // a recoverer must not risk compensating twice.
    if (recovered) return { outcome: 'compensation_failed', errors: [toError(error)] };
    errors.push(toError(error));
  }

  // Not linked to the run's scope: compensations must run although the run was aborted.
  const scope = new Scope();
  const clock = currentClock();
  let timer: TimerHandle | undefined;
  if (timeoutMs !== undefined) {
    timer = clock.setTimeout(() => scope.abort(new TimeoutError(timeoutMs, `Compensation of saga ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
  }
  const cctx = ctx.with({ scope, deadline: timeoutMs === undefined ? undefined : clock.now() + timeoutMs });
  const watching = listening();
  try {
    for (let k = done.length - 1; k >= 0; k--) {
      const d = done[k]!;
      const s = steps[d.index]!;
      if (s.compensate === undefined || handled.has(d.index)) continue;
      let failure: Error | undefined;
      try {
        await compensateOne(s, { input: d.input, output: d.output }, cctx, scope, timer !== undefined);
      } catch (error) {
        failure = toError(error);
        errors.push(failure);
      }
      if (watching) emit(cctx, 'saga', { type: 'saga.compensation', step: name, saga: name, sagaId, compensatedStep: s.name, outcome: failure ? 'error' : 'success', error: failure });
      const entry: SagaEntry = failure
        ? { type: 'compensation_failed', at: currentClock().now(), index: d.index, step: s.name, error: failure.message }
        : { type: 'compensated', at: currentClock().now(), index: d.index, step: s.name };
      await log.append(name, sagaId, entry).catch((error: unknown) => errors.push(toError(error)));
    }
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    scope.dispose();
  }
  const outcome = errors.length === 0 ? 'compensated' : 'compensation_failed';
  await log.append(name, sagaId, { type: 'finished', at: currentClock().now(), outcome }).catch((error: unknown) => errors.push(toError(error)));
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
  if (l === undefined || typeof l.append !== 'function' || typeof l.unfinished !== 'function' || typeof l.claim !== 'function') {
    fail(option, 'a SagaLog (append, unfinished, claim)', value);
  }
  return l as SagaLog;
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) fail('id', 'a function returning a string of 1-200 characters', id);
  return id;
}

function noop(): void {}
