/**
 * How a retry spreads its delays: `none`, `full` (AWS full jitter) or `decorrelated`; see `RetryOptions.jitter`.
 *
 * @example
 * ```ts
 * const jitter: RetryJitter = 'decorrelated';
 * flaky.retry({ jitter, minDelay: 100, maxDelay: 5_000 });
 * ```
 */
export type RetryJitter = 'none' | 'full' | 'decorrelated';

/** How computed delays grow: `minDelay * factor ** (n - 1)`, `minDelay * n`, or `minDelay`. */
export type RetryBackoff = 'exponential' | 'linear' | 'constant';

/** @internal The resolved backoff settings a delay is computed from. */
export interface BackoffConfig {
  readonly factor: number;
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly jitter: RetryJitter;
  readonly backoff: RetryBackoff;
  readonly random: () => number;
}

/**
 * @internal The delay, in whole milliseconds, before retry number `retry` (1 for the first retry).
 * `previous` is the delay used before the last retry (`minDelay` at first), for decorrelated jitter.
 *
 * - `none`: `min(maxDelay, minDelay * factor ** (retry - 1))`.
 * - `full`: a uniform draw in `[0, that]` (AWS "full jitter").
 * - `decorrelated`: a uniform draw in `[minDelay, previous * 3]`, capped (AWS "decorrelated jitter";
 *   `factor` is not used).
 *
 * The cap is applied last, after jitter, so the result is never above `maxDelay` whatever the random
 * source returns (values outside [0, 1] are clamped, NaN counts as 0). Never negative.
 */
export function backoffDelay(config: BackoffConfig, retry: number, previous: number): number {
  const { minDelay, maxDelay } = config;
  let delay: number;
  if (config.jitter === 'decorrelated') {
    const high = previous * 3;
    delay = high > minDelay ? minDelay + unit(config.random) * (high - minDelay) : minDelay;
  } else {
    // 0 * Infinity is NaN: a zero base stays zero however many retries.
    delay = minDelay === 0 ? 0 : config.backoff === 'linear' ? minDelay * retry : config.backoff === 'constant' ? minDelay : minDelay * config.factor ** (retry - 1);
    if (config.jitter === 'full') delay = (delay < maxDelay ? delay : maxDelay) * unit(config.random);
  }
  return Math.floor(delay < maxDelay ? delay : maxDelay);
}

/** A draw from the random source, forced into [0, 1]. */
function unit(random: () => number): number {
  const r = random();
  return r >= 0 ? (r <= 1 ? r : 1) : 0;
}
