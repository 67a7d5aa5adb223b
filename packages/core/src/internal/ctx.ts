import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context as OtelContext, Span } from '@opentelemetry/api';
import type { RunAttributes, RunContext } from '../context/run-context.js';
import type { CorrelationIdRejection } from '../context/correlation-id.js';
import { AbortedError } from '../errors/aborted-error.js';
import { currentClock } from '../clock/clock.js';
import { nodeCrypto, randomUUID } from './crypto.js';
import { type Scope } from './scope.js';

/** A random per-process prefix of run IDs, made on the first run ID. */
let runPrefix: string | undefined;
let runCounter = 0;

/**
 * State shared by every context of one run. The correlation ID (when the caller gave none) and the
 * run ID are generated on first read, so a run that nobody observes never pays for them.
 */
export class RunState {
  /** Lazily created per-run bag for primitives that keep run-scoped data (the cost ledger). */
  bag: Map<symbol, unknown> | undefined;
  /** Secrets of the run: readable by steps, never logged and never put on spans or events. */
  secrets: Readonly<Record<string, string>> | undefined;
  private cid: string | undefined;
  private rid: string | undefined;
  constructor(
    correlationId: string | undefined,
    readonly correlationIdReplaced: CorrelationIdRejection | undefined,
    readonly workflow: string,
    readonly attributes: RunAttributes,
  ) {
    this.cid = correlationId;
  }
  get correlationId(): string {
    return (this.cid ??= randomUUID());
  }
  /** Unique per run in this process and across processes: a random process prefix and a counter. */
  get runId(): string {
    return (this.rid ??= `${(runPrefix ??= nodeCrypto().randomBytes(6).toString('hex'))}-${(++runCounter).toString(36)}`);
  }
}

/**
 * The internal context object passed down the tree. Immutable once built: primitives derive a new one
 * when they change the scope, deadline, attempt, step or span.
 */
export class Ctx implements RunContext {
  constructor(
    readonly run: RunState,
    readonly step: string,
    readonly scope: Scope,
    readonly deadline: number | undefined,
    readonly attempt: number,
    /** The current span when the trace is recording; undefined otherwise. */
    readonly span: Span | undefined,
    /** The OpenTelemetry context to parent new spans on; undefined while nothing is registered with OpenTelemetry (the API is not loaded). */
    readonly otel: OtelContext | undefined,
    /** Set by a saga for its steps and compensations. */
    readonly idempotencyKey: string | undefined = undefined,
  ) {}

  get correlationId(): string {
    return this.run.correlationId;
  }
  get correlationIdReplaced(): CorrelationIdRejection | undefined {
    return this.run.correlationIdReplaced;
  }
  get runId(): string {
    return this.run.runId;
  }
  get workflow(): string {
    return this.run.workflow;
  }
  get attributes(): RunAttributes {
    return this.run.attributes;
  }
  secret(name: string): string | undefined {
    const secrets = this.run.secrets;
    return secrets !== undefined && Object.prototype.hasOwnProperty.call(secrets, name) ? secrets[name] : undefined;
  }
  get signal(): AbortSignal {
    return this.scope.signal;
  }
  get aborted(): boolean {
    return this.scope.aborted;
  }
  remaining(): number {
    if (this.deadline === undefined) return Infinity;
    return Math.max(0, this.deadline - currentClock().now());
  }
  throwIfAborted(): void {
    if (this.scope.aborted) throw abortReasonError(this.scope.reason);
  }

  with(changes: {
    step?: string;
    scope?: Scope;
    deadline?: number | undefined;
    attempt?: number;
    span?: Span | undefined;
    otel?: OtelContext;
    idempotencyKey?: string;
  }): Ctx {
    return new Ctx(
      this.run,
      changes.step ?? this.step,
      changes.scope ?? this.scope,
      'deadline' in changes ? changes.deadline : this.deadline,
      changes.attempt ?? this.attempt,
      'span' in changes ? changes.span : this.span,
      changes.otel ?? this.otel,
      changes.idempotencyKey ?? this.idempotencyKey,
    );
  }
}

/** An abort reason as an Error to reject with: Weft errors pass through, anything else becomes AbortedError. */
export function abortReasonError(reason: unknown): Error {
  if (reason instanceof Error && (reason.name === 'TimeoutError' || reason.name === 'AbortedError')) return reason;
  return new AbortedError(reason);
}

/** @internal */
export const storage = new AsyncLocalStorage<Ctx>();

/**
 * The context of the run that is executing the calling code, or undefined outside any run.
 * Survives `await`, timers and promise chains; never leaks between concurrent runs.
 *
 * @example
 * ```ts
 * function log(msg: string) { console.log(currentContext()?.correlationId, msg) }
 * ```
 */
export function currentContext(): RunContext | undefined {
  return storage.getStore();
}

/**
 * The secret values of a run, for redaction by loggers and exporters. Empty outside a run.
 *
 * @example
 * ```ts
 * const redact = (line: string) => secretValues().reduce((l, v) => l.split(v).join('[REDACTED]'), line);
 * ```
 */
export function secretValues(ctx: RunContext | undefined = storage.getStore()): string[] {
  const secrets = ctx instanceof Ctx ? ctx.run.secrets : undefined;
  return secrets ? Object.values(secrets).filter((v) => typeof v === 'string' && v.length > 0) : [];
}

/**
 * The OpenTelemetry context of a run's current step: its span when the trace is recording, otherwise
 * the context the run was started in. For propagators and instrumentation that need the parent.
 *
 * @example
 * ```ts
 * const parent = otelContextOf(ctx); propagation.inject(parent ?? context.active(), headers);
 * ```
 */
export function otelContextOf(ctx: RunContext | undefined = storage.getStore()): OtelContext | undefined {
  return ctx instanceof Ctx ? ctx.otel : undefined;
}
