import type { RateLimitDecision, RateLimitStore, TokenBucketConfig } from './rate-limit-store.js';

interface Bucket {
  tokens: number;
  last: number;
}

/** Float slack so that a bucket refilled to 0.9999999999 of a token still counts as one. */
const EPSILON = 1e-9;
const ALLOWED: RateLimitDecision = Object.freeze({ allowed: true, retryAfterMs: 0 });

/**
 * The default {@link RateLimitStore}: token buckets in this process's memory, one per key,
 * answering synchronously (so a limited call that gets its token costs no extra promise).
 * Keys are names written in code, so the map stays small.
 *
 * @example
 * ```ts
 * const store = new LocalRateLimitStore();
 * const a = new RateLimiter({ key: 'openai', rate: 60, per: 60_000, store });
 * ```
 */
export class LocalRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes or reserves `cost` tokens; see {@link RateLimitStore.take}. Never returns a promise. */
  take(key: string, cost: number, config: TokenBucketConfig, now: number, maxWaitMs = 0): RateLimitDecision {
    const b = this.refill(key, config, now);
    if (b.tokens + EPSILON >= cost) {
      b.tokens -= cost;
      return ALLOWED;
    }
    const wait = waitMs(cost - b.tokens, config);
    if (wait <= maxWaitMs) {
      b.tokens -= cost;
      return { allowed: true, retryAfterMs: wait };
    }
    return { allowed: false, retryAfterMs: wait };
  }

  /** Gives back `cost` tokens, up to `burst`; see {@link RateLimitStore.refund}. */
  refund(key: string, cost: number, config: TokenBucketConfig, now: number): void {
    const b = this.refill(key, config, now);
    b.tokens = Math.min(config.burst, b.tokens + cost);
  }

  /** The tokens in bucket `key` at `now` (refilled), for tests and diagnostics; `burst` for a new key. */
  peek(key: string, config: TokenBucketConfig, now: number): number {
    const b = this.buckets.get(key);
    if (b === undefined) return config.burst;
    return now > b.last ? Math.min(config.burst, b.tokens + ((now - b.last) * config.rate) / config.per) : b.tokens;
  }

  private refill(key: string, config: TokenBucketConfig, now: number): Bucket {
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: config.burst, last: now };
      this.buckets.set(key, b);
    } else if (now > b.last) {
      b.tokens = Math.min(config.burst, b.tokens + ((now - b.last) * config.rate) / config.per);
      b.last = now;
    } else if (now < b.last) {
      // The clock went back (a test reset fake timers): restart the refill from here.
      b.last = now;
    }
    return b;
  }
}

/** Float slack in milliseconds: a wait computed as 1.0000000000000009 ms is 1 ms, not 2. */
const WAIT_SLACK_MS = 1e-6;

/**
 * Whole milliseconds until `missing` tokens have refilled: rounded up, but not past
 * float noise (a caller 1 ms short of a token is told 1 ms), and at least 1.
 */
function waitMs(missing: number, config: TokenBucketConfig): number {
  const exact = (missing * config.per) / config.rate;
  const wait = Math.ceil(exact - WAIT_SLACK_MS);
  return wait > 1 ? wait : 1;
}
