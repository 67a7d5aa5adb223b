/**
 * A token bucket's shape, as a {@link RateLimitStore} receives it on every call: `rate` tokens are
 * added every `per` milliseconds, up to `burst` tokens. A full bucket is the starting state.
 *
 * @example
 * ```ts
 * const config: TokenBucketConfig = { rate: 10, per: 1_000, burst: 20 };
 * ```
 */
export interface TokenBucketConfig {
  /** Tokens added every `per` milliseconds. */
  readonly rate: number;
  /** The refill period in milliseconds. */
  readonly per: number;
  /** The bucket's capacity: how many tokens can be spent at once after an idle spell. */
  readonly burst: number;
}

/**
 * A store's answer to {@link RateLimitStore.take}.
 *
 * - `allowed: true`: the tokens were taken. `retryAfterMs` is 0, or, when the store reserved
 *   tokens that are still to come (only when `maxWaitMs > 0`), how long to wait before using them.
 * - `allowed: false`: nothing was taken; `retryAfterMs` is how long until enough tokens are
 *   expected.
 *
 * @example
 * ```ts
 * const denied: RateLimitDecision = { allowed: false, retryAfterMs: 250 };
 * ```
 */
export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly retryAfterMs: number;
}

/**
 * Where a rate limiter keeps its buckets. The default, {@link LocalRateLimitStore}, keeps them in
 * memory and answers synchronously; a remote store (Redis, with a Lua token bucket) shares one
 * bucket per key between processes and answers with a promise. Every store implements the same
 * token bucket:
 *
 * 1. Refill: `tokens = min(burst, tokens + elapsed * rate / per)`; a new key starts full.
 * 2. If `tokens >= cost`: take them, answer `{ allowed: true, retryAfterMs: 0 }`.
 * 3. Else `wait = ceil((cost - tokens) * per / rate)`. If `wait <= maxWaitMs`, reserve the tokens
 *    (the balance goes negative, so later callers queue behind this one) and answer
 *    `{ allowed: true, retryAfterMs: wait }`; otherwise take nothing and answer
 *    `{ allowed: false, retryAfterMs: wait }`.
 *
 * A store may use its own clock instead of `now` (a Redis store may use `TIME`), but then every
 * caller of that store must. A store that throws, rejects, answers something else or is slower
 * than the limiter's `storeTimeoutMs` is bypassed for that call in favour of a local bucket.
 *
 * @example
 * ```ts
 * const logging: RateLimitStore = {
 *   take(key, cost, config, now, maxWaitMs) {
 *     const decision = local.take(key, cost, config, now, maxWaitMs);
 *     console.log(key, decision);
 *     return decision;
 *   },
 * };
 * ```
 */
export interface RateLimitStore {
  /**
   * Takes `cost` tokens from the bucket `key`, or says how long until they are there.
   * @param key the limiter's key: one bucket per key.
   * @param cost tokens this call needs; never more than `config.burst`.
   * @param config the bucket's shape; all callers of one key should pass the same.
   * @param now the caller's clock, in epoch milliseconds.
   * @param maxWaitMs how far ahead tokens may be reserved; 0 means never reserve.
   */
  take(key: string, cost: number, config: TokenBucketConfig, now: number, maxWaitMs: number): RateLimitDecision | Promise<RateLimitDecision>;
  /**
   * Optional: gives back tokens that were taken or reserved but will not be used (the waiting
   * caller aborted). Never more than `burst` in the bucket afterwards. Errors are ignored.
   */
  refund?(key: string, cost: number, config: TokenBucketConfig, now: number): void | Promise<void>;
}
