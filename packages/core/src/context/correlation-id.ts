import { randomUUID } from '../internal/crypto.js';

const VALID = /^[A-Za-z0-9._:-]+$/;

/** Longest correlation ID accepted from a caller. */
export const MAX_CORRELATION_ID_LENGTH = 128;

/** Why a supplied correlation ID was replaced. */
export type CorrelationIdRejection = 'too_long' | 'invalid_characters' | 'empty';

/**
 * Checks a caller-supplied correlation ID: at most 128 characters from `[A-Za-z0-9._:-]`.
 * Returns the reason it is unacceptable, or undefined when it is fine.
 *
 * @example
 * ```ts
 * checkCorrelationId('req-1') // undefined
 * checkCorrelationId('a b')   // 'invalid_characters'
 * ```
 */
export function checkCorrelationId(value: unknown): CorrelationIdRejection | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'empty';
  if (value.length > MAX_CORRELATION_ID_LENGTH) return 'too_long';
  if (!VALID.test(value)) return 'invalid_characters';
  return undefined;
}

/** A fresh correlation ID (a UUID v4). */
export function newCorrelationId(): string {
  return randomUUID();
}

/**
 * Returns `value` when it is a valid correlation ID, otherwise a fresh one and the reason.
 * The rejected value is never echoed.
 *
 * @example
 * ```ts
 * const { id, replaced } = resolveCorrelationId(req.headers['x-correlation-id']);
 * ```
 */
export function resolveCorrelationId(value: unknown): { id: string; replaced: CorrelationIdRejection | undefined } {
  if (value === undefined || value === null || value === '') return { id: randomUUID(), replaced: undefined };
  const reason = checkCorrelationId(value);
  return reason === undefined ? { id: value as string, replaced: undefined } : { id: randomUUID(), replaced: reason };
}

/** @internal Like resolveCorrelationId, but leaves generation to the caller (undefined id = generate lazily). */
export function acceptCorrelationId(value: unknown): { id: string | undefined; replaced: CorrelationIdRejection | undefined } {
  if (value === undefined || value === null || value === '') return { id: undefined, replaced: undefined };
  const reason = checkCorrelationId(value);
  return reason === undefined ? { id: value as string, replaced: undefined } : { id: undefined, replaced: reason };
}
