import { WeftError, brandOf } from './weft-error.js';

/**
 * The bulkhead was at its concurrency limit and its queue was full.
 *
 * @example
 * ```ts
 * catch (e) { if (isBulkheadRejectedError(e)) reply.code(503) }
 * ```
 */
export class BulkheadRejectedError extends WeftError {
  override name = 'BulkheadRejectedError';
  constructor(readonly maxConcurrent: number, readonly maxQueue: number) {
    super(`Bulkhead full: ${maxConcurrent} running and ${maxQueue} queued`, { code: 'BULKHEAD_REJECTED' });
  }
}

/** True when the value is a {@link BulkheadRejectedError} from any copy of Weft. */
export function isBulkheadRejectedError(value: unknown): value is BulkheadRejectedError {
  return brandOf(value) === 'BULKHEAD_REJECTED';
}
