import { currentClock, durationNow, type TimerHandle } from './clock/clock.js';
import type { RunAttributes } from './context/run-context.js';
import { acceptCorrelationId, type CorrelationIdRejection } from './context/correlation-id.js';
import { AbortedError } from './errors/aborted-error.js';
import { TimeoutError } from './errors/timeout-error.js';
import { toError } from './errors/non-error-thrown.js';
import { abortReasonError, Ctx, RunState } from './internal/ctx.js';
import { emit, listening } from './internal/emit.js';
import { isThenable } from './internal/is-thenable.js';
import { raceAbort } from './internal/race.js';
import { ledgerOfRun, type CostLedger } from './cost/ledger.js';
import { Scope } from './internal/scope.js';
import { activeTracer, endSpan, failSpan } from './internal/tracing.js';
import { otelApi } from './internal/otel.js';
import { fail, knownOptions, optionalNumber, primitiveName } from './internal/validate-options.js';

/** Options for one `run()`. */
export interface RunOptions {
  /** Correlation ID to carry; a malformed one is replaced and the replacement recorded. Generated when absent. */
  readonly correlationId?: string;
  /** Aborting it cancels the run: the steps' signals abort and `run()` rejects with `AbortedError`. */
  readonly signal?: AbortSignal;
  /** Milliseconds the whole run may take; on expiry it rejects with `TimeoutError`. */
  readonly timeout?: number;
  /** Absolute deadline, as epoch milliseconds or a Date. The earlier of `deadline` and `timeout` wins. */
  readonly deadline?: number | Date;
  /** Attributes of the run, readable as `ctx.attributes` and put on the run's span. */
  readonly attributes?: RunAttributes;
  /** The workflow name for events, spans and metrics. @default the primitive's name */
  readonly workflow?: string;
  /**
   * For edge adapters that validated the correlation ID themselves (to echo it before the run starts):
   * why the caller's original ID was replaced, so the run records it on its span and event.
   */
  readonly correlationIdReplaced?: CorrelationIdRejection;
  /** Secrets for the steps (`ctx.secret(name)`): never put on spans, events or metric labels, and redacted by Weft's loggers. */
  readonly secrets?: Readonly<Record<string, string>>;
}

/** What `runDetailed()` resolves with. */
export interface RunResult<O> {
  readonly output: O;
  readonly correlationId: string;
  /** Set when the caller's correlation ID was malformed and replaced. */
  readonly correlationIdReplaced: string | undefined;
  readonly runId: string;
  readonly durationMs: number;
  /** Every cost recorded during the run, with totals by step and model. */
  readonly cost: CostLedger;
}

/** @internal How a primitive executes inside a run. */
export type Exec<I, O> = (input: I, ctx: Ctx) => Promise<O>;

const EMPTY: RunOptions = Object.freeze({});
const MAX_TIMER_MS = 2_147_483_647;
const REJECTIONS = new Set(['too_long', 'invalid_characters', 'empty']);

/** Validates run options before anything starts, so a bad option leaks no span and names itself. */
/** @internal The names of {@link RunOptions}, for packages that pass run options through. */
export const RUN_OPTIONS = ['correlationId', 'signal', 'timeout', 'deadline', 'attributes', 'workflow', 'correlationIdReplaced', 'secrets'] as const;

function checkRunOptions(o: RunOptions): void {
  if (typeof o !== 'object' || o === null) fail('options', 'an options object', o);
  knownOptions('run', o as unknown as Record<string, unknown>, RUN_OPTIONS);
  optionalNumber('timeout', o.timeout, { min: 0, finite: false });
  if (o.deadline !== undefined) {
    const d = o.deadline instanceof Date ? o.deadline.getTime() : o.deadline;
    if (typeof d !== 'number' || Number.isNaN(d)) fail('deadline', 'epoch milliseconds or a valid Date', o.deadline);
  }
  const signal = o.signal as unknown;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).addEventListener !== 'function' || typeof (signal as AbortSignal).aborted !== 'boolean')) {
    fail('signal', 'an AbortSignal', signal);
  }
  if (o.workflow !== undefined) primitiveName('workflow', o.workflow);
  if (o.attributes !== undefined && (typeof o.attributes !== 'object' || o.attributes === null)) fail('attributes', 'an object of span attribute values', o.attributes);
  if (o.secrets !== undefined) {
    if (typeof o.secrets !== 'object' || o.secrets === null) fail('secrets', 'an object of strings', o.secrets);
    for (const [k, v] of Object.entries(o.secrets)) if (typeof v !== 'string') fail(`secrets.${k}`, 'a string', v);
  }
  if (o.correlationIdReplaced !== undefined && !REJECTIONS.has(o.correlationIdReplaced)) fail('correlationIdReplaced', 'one of "too_long", "invalid_characters", "empty"', o.correlationIdReplaced);
}
const NO_ID = Object.freeze({ id: undefined, replaced: undefined });
const NO_ATTRIBUTES: RunAttributes = Object.freeze({});

/**
 * A typed, immutable unit of work: `(input, ctx) => Promise<output>`. Every Weft primitive is one.
 * Chaining methods (`pipe`, `retry`, `timeout`, ...) return new primitives and never change this one.
 *
 * @example
 * ```ts
 * const fetchUser = step('fetch-user', async (id: string, ctx) => db.get(id, { signal: ctx.signal }))
 *   .retry({ retries: 2 })
 *   .timeout(1_000);
 * const user = await fetchUser.run('42', { correlationId: 'req-1' });
 * ```
 */
const PRIMITIVE_BRAND = Symbol.for('weft.primitive.v1');

export class Primitive<in I, out O> {
  /** Recognises primitives built by any installed copy of `@weft/core`. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PRIMITIVE_BRAND] === true;
  }

  /** The name used for spans, events and metric labels. */
  readonly name: string;
  /** Which kind of primitive this is: `step`, `sequence`, `retry`, ... */
  readonly kind: string;
  /**
   * @internal Executes inside a run. A property, not a method, so that TypeScript checks the
   * input contravariantly and a mismatched chain fails to compile.
   */
  readonly exec: Exec<I, O>;

  /** @internal Use `step()`, composition functions or `definePrimitive()`. */
  constructor(name: string, kind: string, exec: Exec<I, O>) {
    this.name = name;
    this.kind = kind;
    this.exec = exec;
    Object.freeze(this);
  }

  /**
   * Runs the primitive as a workflow: creates the run context (correlation ID, run ID, signal,
   * deadline, attributes), the run's span, and reports `run.started` / `run.finished`.
   *
   * @example
   * ```ts
   * await flow.run(input, { correlationId: 'req-1', timeout: 5_000, signal: req.signal });
   * ```
   */
  run(input: I, options?: RunOptions): Promise<O> {
    return this.startRun(input, options, undefined);
  }

  /**
   * Runs like `run()`, and resolves with the output plus what the run recorded: its correlation ID,
   * run ID, duration and cost ledger. On failure it rejects exactly like `run()`.
   *
   * @example
   * ```ts
   * const { output, cost, correlationId } = await answer.runDetailed(question);
   * console.log(cost.total, cost.byModel);
   * ```
   */
  runDetailed(input: I, options?: RunOptions): Promise<RunResult<O>> {
    const holder: { state?: RunState; t0: number } = { t0: durationNow() };
    return this.startRun(input, options, holder).then((output) => {
      const state = holder.state!;
      return { output, correlationId: state.correlationId, correlationIdReplaced: state.correlationIdReplaced, runId: state.runId, durationMs: durationNow() - holder.t0, cost: ledgerOfRun(state) };
    });
  }

  /** @internal Starts a run; `hooks` receive its state and may stop it (see {@link RunHooks}). */
  startRun(input: I, options: RunOptions | undefined, holder: RunHooks | undefined): Promise<O> {
    const o = options ?? EMPTY;
    let deadline: number | undefined;
    let now = 0;
    // Deadlines are read and armed on the current clock (`useClock`), so a test clock moves them too.
    const clock = currentClock();
    if (o !== EMPTY) {
      try {
        checkRunOptions(o);
      } catch (error) {
        return Promise.reject(error);
      }
      if (o.timeout !== undefined || o.deadline !== undefined) {
        now = clock.now();
        if (o.timeout !== undefined && Number.isFinite(o.timeout)) deadline = now + o.timeout;
        const d = o.deadline instanceof Date ? o.deadline.getTime() : o.deadline;
        if (d !== undefined && Number.isFinite(d)) deadline = deadline === undefined ? d : Math.min(deadline, d);
      }
    }
    const accepted = o.correlationId === undefined ? NO_ID : acceptCorrelationId(o.correlationId);
    const id = accepted.id;
    const replaced = accepted.replaced ?? o.correlationIdReplaced;
    const attributes = o.attributes ? Object.freeze({ ...o.attributes }) : NO_ATTRIBUTES;
    const workflow = o.workflow ?? this.name;
    const runState = new RunState(id, replaced, workflow, attributes);
    if (o.secrets !== undefined) runState.secrets = Object.freeze({ ...o.secrets });
    if (holder) holder.state = runState;

    const scope = new Scope();
    // Without anything registered with OpenTelemetry, the API is not even loaded (see otelApi).
    const api = otelApi();
    const active = api?.context.active();
    const span = activeTracer()?.startSpan(workflow, undefined, active);
    const recording = span !== undefined && span.isRecording();
    if (recording) {
      try {
        span.setAttributes({
          ...attributes,
          'weft.workflow': workflow,
          'weft.step': this.name,
          'weft.primitive': this.kind,
          'weft.correlation_id': runState.correlationId,
          'weft.run_id': runState.runId,
        });
        if (replaced) span.setAttribute('weft.correlation_id_replaced', replaced);
      } catch {
        // telemetry never breaks a workflow
      }
    }
    const ctx = new Ctx(runState, this.name, scope, deadline, 1, recording ? span : undefined, recording ? api!.trace.setSpan(active!, span) : active);

    const watching = listening();
    const t0 = watching ? durationNow() : 0;
    if (watching) {
      if (replaced) emit(ctx, this.kind, { type: 'context.correlation_id_replaced', reason: replaced });
      emit(ctx, this.kind, { type: 'run.started' });
    }

    // Cancellation sources: the caller's signal and the run's deadline.
    let removeListener: (() => void) | undefined;
    let timer: TimerHandle | undefined;
    const signal = o.signal;
    if (signal) {
      if (signal.aborted) scope.abort(new AbortedError(signal.reason));
      else {
        const onAbort = (): void => scope.abort(new AbortedError(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        removeListener = () => signal.removeEventListener('abort', onAbort);
      }
    }
    if (deadline !== undefined && !scope.aborted) {
      const ms = deadline - now;
      // A deadline already past fails the run before any step runs. One beyond setTimeout's range
      // (about 24.8 days) is carried on ctx.deadline but arms no timer: Node would fire it at once.
      if (ms <= 0) scope.abort(new TimeoutError(0, 'Run deadline had already passed'));
      else if (ms <= MAX_TIMER_MS) timer = clock.setTimeout(() => scope.abort(new TimeoutError(ms, `Run deadline of ${ms} ms expired`)), ms);
    }

    // A stop (a stream's consumer leaving) aborts the run's scope directly: no AbortSignal, which
    // costs about 4 µs to create on Node 20, and no listener to remove.
    const stop = holder?.stop;
    if (stop !== undefined) stop.attach(scope);

    let promise: Promise<O>;
    try {
      promise = scope.aborted ? Promise.reject(abortReasonError(scope.reason)) : this.exec(input, ctx);
    } catch (error) {
      promise = Promise.reject(error);
    }
    if (signal || timer !== undefined || stop !== undefined) promise = raceAbort(promise, scope);

    const finish = (): void => {
      if (timer !== undefined) clock.clearTimeout(timer);
      stop?.detach();
      removeListener?.();
    };
    const kind = this.kind;
    return promise.then(
      (value) => {
        finish();
        if (recording) endSpan(span);
        if (watching) emit(ctx, kind, { type: 'run.finished', outcome: 'success', durationMs: durationNow() - t0, traceId: recording ? span.spanContext().traceId : undefined });
        return value;
      },
      (thrown: unknown) => {
        finish();
        const error = toError(thrown);
        // Abort whatever is still running (a fail-fast sibling, work that ignored a timeout).
        scope.abort(error);
        if (recording) {
          failSpan(span, error);
          endSpan(span);
        }
        if (watching) emit(ctx, kind, { type: 'run.finished', outcome: 'error', durationMs: durationNow() - t0, error, traceId: recording ? span.spanContext().traceId : undefined });
        throw error;
      },
    );
  }

  /**
   * Feeds this primitive's output into `next`. Same as `sequence(this, next)`.
   *
   * @example
   * ```ts
   * const flow = parse.pipe(enrich).pipe(save);
   * ```
   */
  pipe<O2>(next: Primitive<O, O2>): Primitive<I, O2> {
    const first = this.exec;
    const second = next.exec;
    return new Primitive<I, O2>(`${this.name}>${next.name}`.slice(0, 100), 'sequence', async (input, ctx) => second(await first(input, ctx), ctx));
  }
}

Object.defineProperty(Primitive.prototype, PRIMITIVE_BRAND, { value: true });

/** @internal What code inside core passes to `startRun`: `state` receives the run's state; a `stop` can end the run. */
export interface RunHooks {
  state?: RunState;
  readonly stop?: RunStop;
}

/**
 * @internal Ends a run from outside without an AbortSignal: `abort` aborts the run's scope (so its
 * steps' `ctx.signal` aborts and its timers clear), and the run settles at once with the reason.
 * It may be aborted before the run starts: the run then fails before any step runs; once the run
 * has settled, aborting it does nothing.
 */
export class RunStop {
  private scope: Scope | undefined;
  private stopped = false;
  private reason: unknown;

  /** Called by the run with its root scope. */
  attach(scope: Scope): void {
    if (this.stopped) scope.abort(this.reason);
    else this.scope = scope;
  }

  abort(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.scope?.abort(reason);
  }

  /** Called when the run settles: a stop after that (an Observable's teardown after it completed) changes nothing. */
  detach(): void {
    this.stopped = true;
    this.scope = undefined;
  }
}

/**
 * Builds a primitive from an exec function. For authors of new primitives: `exec` receives the
 * calling context; wrap an inner primitive by calling `inner.exec(input, ctx)`.
 *
 * @example
 * ```ts
 * const logged = <I, O>(p: Primitive<I, O>) =>
 *   definePrimitive(p.name, 'logged', async (input: I, ctx) => { console.log(ctx.step); return p.exec(input, ctx); });
 * ```
 */
export function definePrimitive<I, O>(name: string, kind: string, exec: Exec<I, O>): Primitive<I, O> {
  return new Primitive(name, kind, exec);
}

/**
 * @internal Adds a fluent method to every primitive. Each primitive's entry module
 * (`@weft/core/retry`, ...) calls it and declares the method on `Primitive` by module
 * augmentation, so the method exists, and type-checks, exactly where that module is imported.
 * `primitive.ts` itself imports no primitive: there is no import cycle, and importing one
 * primitive does not load the others.
 */
export function addMethod(name: string, impl: (self: never, ...args: never) => unknown): void {
  const call = impl as unknown as (self: unknown, ...args: unknown[]) => unknown;
  Object.defineProperty(Primitive.prototype, name, {
    value: function (this: unknown, ...args: unknown[]) {
      return call(this, ...args);
    },
    configurable: true,
    writable: true,
  });
}

/** @internal Runs a user function, turning a synchronous throw into a rejection. */
export function callUser<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    const out = fn();
    return isThenable<T>(out) ? Promise.resolve(out) : Promise.resolve(out);
  } catch (error) {
    return Promise.reject(toError(error));
  }
}
