import type { AttributeValue } from '@opentelemetry/api';
import type { CorrelationIdRejection } from './correlation-id.js';

/** Attributes of a run: readonly, set by the caller of `run()`. */
export type RunAttributes = Readonly<Record<string, AttributeValue>>;

/**
 * The context of a run, as a step sees it. The same object is returned by `currentContext()`
 * anywhere inside the step, across awaits and timers.
 */
export interface RunContext {
  /** From the run options when valid, otherwise generated. Goes on spans and logs, never on metric labels. */
  readonly correlationId: string;
  /** Set when the caller's correlation ID was malformed and replaced; says why. */
  readonly correlationIdReplaced: CorrelationIdRejection | undefined;
  /** Unique per `run()` call. */
  readonly runId: string;
  /** The name of the workflow: the primitive `run()` was called on, or the `workflow` option. */
  readonly workflow: string;
  /** The name of the innermost step. */
  readonly step: string;
  /**
   * Aborted when the caller aborts, a timeout fires or a sibling fails; its `reason` says which.
   * Created on first read, so leave it unread when you do not need it.
   */
  readonly signal: AbortSignal;
  /** Whether the run has been aborted (cheaper than reading `signal.aborted`). */
  readonly aborted: boolean;
  /** Epoch milliseconds by which the work must finish, or undefined for none. */
  readonly deadline: number | undefined;
  /** 1 on the first attempt; incremented by `retry()` and `hedge()`. */
  readonly attempt: number;
  /**
   * Inside a saga step: a key stable for that step of that execution across retries, takeovers by
   * another instance and recovery, to send to remote services as an `idempotency-key` header so a
   * repeated call has no second effect. Inside a compensation: the forward key plus `:undo`.
   * Undefined outside sagas.
   */
  readonly idempotencyKey: string | undefined;
  /** The run's attributes, frozen. */
  readonly attributes: RunAttributes;
  /**
   * A secret passed in `run(input, { secrets })`, such as an API key. Secrets are kept apart from
   * attributes: they never go on spans, events or metric labels, and Weft's loggers redact them.
   */
  secret(name: string): string | undefined;
  /** Milliseconds left until the deadline, or Infinity. Never negative. */
  remaining(): number;
  /** Throws the abort reason when the run is aborted. */
  throwIfAborted(): void;
}
