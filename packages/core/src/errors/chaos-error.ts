import { WeftError, brandOf } from './weft-error.js';

/**
 * A fault injected on purpose by `chaos()`.
 *
 * @example
 * ```ts
 * catch (e) { if (isChaosError(e)) console.log('injected') }
 * ```
 */
export class ChaosError extends WeftError {
  override name = 'ChaosError';
  constructor(message = 'Injected fault') {
    super(message, { code: 'CHAOS_FAULT' });
  }
}

/** True when the value is a {@link ChaosError} from any copy of Weft. */
export function isChaosError(value: unknown): value is ChaosError {
  return brandOf(value) === 'CHAOS_FAULT';
}
