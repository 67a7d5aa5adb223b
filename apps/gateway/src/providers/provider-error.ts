/**
 * A provider answered with an error status, or with a body that is not a chat completion.
 * `retryAfterMs` carries the provider's `Retry-After`, which `retry()` honours.
 *
 * @example
 * ```ts
 * throw new ProviderError('alpha', 503, 'Simulated provider alpha is down.');
 * ```
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    /** The provider that failed. */
    readonly provider: string,
    /** The HTTP status, or 0 when the body was unusable. */
    readonly status: number,
    message: string,
    /** Milliseconds the provider asked us to wait, from `Retry-After`. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** Whether trying again may help: rate limits, server errors and unusable bodies, not other 4xx. */
  get transient(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** True for a {@link ProviderError}. */
export function isProviderError(value: unknown): value is ProviderError {
  return value instanceof ProviderError;
}
