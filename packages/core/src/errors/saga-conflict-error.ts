import { WeftError, brandOf } from './weft-error.js';

/**
 * A saga was started with an execution ID that already exists, and it did not run again.
 * `state` says why: `running` when a live instance holds the execution's lease (another caller is
 * running it now), `compensated` or `compensation_failed` when it already finished that way
 * (`cause` is the recorded original error, rebuilt with its name, message and code), and
 * `lease_lost` when this instance stopped because another took the execution over.
 * A completed execution is not a conflict: the saga returns its recorded output.
 *
 * @example
 * ```ts
 * catch (e) { if (isSagaConflictError(e) && e.state === 'running') return reply.code(409).send() }
 * ```
 */
export class SagaConflictError extends WeftError {
  override name = 'SagaConflictError';
  constructor(
    readonly saga: string,
    readonly sagaId: string,
    readonly state: 'running' | 'compensated' | 'compensation_failed' | 'lease_lost',
    cause?: unknown,
  ) {
    super(
      state === 'running'
        ? `Saga ${saga} execution ${JSON.stringify(sagaId.slice(0, 64))} is running in another instance`
        : state === 'lease_lost'
          ? `Saga ${saga} execution ${JSON.stringify(sagaId.slice(0, 64))} was taken over by another instance`
          : `Saga ${saga} execution ${JSON.stringify(sagaId.slice(0, 64))} already finished: ${state}`,
      { code: 'SAGA_CONFLICT', cause },
    );
  }
}

/** True when the value is a {@link SagaConflictError} from any copy of Weft. */
export function isSagaConflictError(value: unknown): value is SagaConflictError {
  return brandOf(value) === 'SAGA_CONFLICT';
}
