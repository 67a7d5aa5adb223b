import { isWeftError, type WeftErrorCode } from '@weft/core';
import { OVERFLOW_LABEL_VALUE } from './metric-names.js';

/**
 * The `error` label value of every Weft error code. Typed against core's `WeftErrorCode`, so a code
 * added to core without a label value here fails to compile.
 */
const KINDS = {
  WEFT_ERROR: 'weft_error',
  VALIDATION: 'validation',
  TIMEOUT: 'timeout',
  ABORTED: 'aborted',
  RETRY_EXHAUSTED: 'retry_exhausted',
  FALLBACK_EXHAUSTED: 'fallback_exhausted',
  CIRCUIT_OPEN: 'circuit_open',
  BULKHEAD_REJECTED: 'bulkhead_rejected',
  RATE_LIMITED: 'rate_limited',
  CHAOS_FAULT: 'chaos_fault',
  ROUTE_NOT_FOUND: 'route_not_found',
  BUDGET_EXCEEDED: 'budget_exceeded',
  COMPENSATION_FAILED: 'compensation_failed',
  SAGA_CONFLICT: 'saga_conflict',
  STREAM_INTERRUPTED: 'stream_interrupted',
  NON_ERROR_THROWN: 'non_error_thrown',
} as const satisfies Record<WeftErrorCode, string>;

/**
 * Every value the `error` label can take.
 *
 * @example
 * ```ts
 * const kind: ErrorKind = errorKind(error);
 * ```
 */
export type ErrorKind = (typeof KINDS)[WeftErrorCode] | typeof OVERFLOW_LABEL_VALUE;

/**
 * Every value the `error` label can take: one per Weft error code, plus `other`.
 *
 * @example
 * ```ts
 * import { ERROR_KINDS } from '@weft/prometheus';
 * ERROR_KINDS.includes('timeout'); // true
 * ```
 */
export const ERROR_KINDS: readonly ErrorKind[] = Object.freeze([...Object.values(KINDS), OVERFLOW_LABEL_VALUE]);

const byCode = new Map<string, ErrorKind>(Object.entries(KINDS));

/**
 * The bounded `error` label value of a thrown value: the snake-case code of a Weft error (from any
 * installed copy of Weft, found by its brand), or `other` for anything else. Never reads the message.
 *
 * @example
 * ```ts
 * errorKind(new TimeoutError(100)); // 'timeout'
 * errorKind(new Error('ECONNRESET while fetching user 42')); // 'other'
 * ```
 */
export function errorKind(error: unknown): ErrorKind {
  if (!isWeftError(error)) return OVERFLOW_LABEL_VALUE;
  const code: unknown = (error as { code?: unknown }).code;
  return (typeof code === 'string' && byCode.get(code)) || OVERFLOW_LABEL_VALUE;
}
