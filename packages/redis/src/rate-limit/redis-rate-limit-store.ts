import type { RateLimitDecision, RateLimitStore, TokenBucketConfig } from '@weft/core';
import { tag } from '../internal/keys.js';
import { MAX_TIMER } from '../internal/timers.js';
import { defineScript, type WeftRedis } from '../weft-redis.js';

// The token bucket of LocalRateLimitStore, in Lua. State: t = tokens, l = time of the last refill.
// A caller whose clock is behind `l` gets no refill (it never moves `l` back), so clock skew
// between hosts can only lower the rate, never raise it.
const REFILL = `
local function refill(key, rate, per, burst, now)
  local s = redis.call('HMGET', key, 't', 'l')
  if not s[1] then return burst, now end
  local tokens, last = tonumber(s[1]), tonumber(s[2])
  if now > last then
    tokens = math.min(burst, tokens + (now - last) * rate / per)
    last = now
  end
  return tokens, last
end
local function save(key, tokens, last, rate, per, burst)
  redis.call('HSET', key, 't', string.format('%.17g', tokens), 'l', string.format('%.17g', last))
  -- The key lives until the bucket would be full again (then it is the same as no key), plus a second.
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) * per / rate) + 1000)
end
`;

const TAKE = defineScript(`${REFILL}
local cost, rate, per, burst, now, maxWait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tokens, last = refill(KEYS[1], rate, per, burst, now)
if tokens + 1e-9 >= cost then
  save(KEYS[1], tokens - cost, last, rate, per, burst)
  return {1, 0}
end
-- Rounded up past float noise (1.0000000000000009 ms is 1 ms), and at least 1, as the local store does.
local wait = math.max(1, math.ceil((cost - tokens) * per / rate - 0.000001))
if wait <= maxWait then
  save(KEYS[1], tokens - cost, last, rate, per, burst)
  return {1, wait}
end
return {0, wait}
`);

const REFUND = defineScript(`${REFILL}
local cost, rate, per, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local tokens, last = refill(KEYS[1], rate, per, burst, now)
save(KEYS[1], math.min(burst, tokens + cost), last, rate, per, burst)
return 1
`);

/**
 * A {@link RateLimitStore} in Redis: the same token bucket as `LocalRateLimitStore` (refill, take,
 * reserve ahead up to `maxWaitMs`, refund), run atomically by a Lua script, so every process of a
 * fleet draws from one bucket per key. Plug it into `rateLimit()` / `new RateLimiter()`.
 *
 * **Failure.** A call that fails or exceeds the client's `commandTimeoutMs` rejects; the limiter
 * then uses a local bucket with the same config for that call (`ratelimit.store_error`), so while
 * Redis is down each process limits itself to the full rate (the fleet may reach N times the rate
 * for N processes). It goes back to the shared bucket on the next call after Redis returns.
 *
 * Times come from the callers' clocks; a host whose clock is behind gets no refill until it
 * catches up, so skew lowers the shared rate and never raises it. Keys:
 * `<prefix>:ratelimit:{ratelimit:<key>}`, expiring when the bucket would be full again.
 *
 * @example
 * ```ts
 * const openai = new RateLimiter({ key: 'openai', rate: 500, per: 60_000, mode: 'wait', store: new RedisRateLimitStore(redis) });
 * const summarise = step('summarise', callModel).rateLimit(openai);
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(private readonly redis: WeftRedis) {}

  take(key: string, cost: number, config: TokenBucketConfig, now: number, maxWaitMs: number): Promise<RateLimitDecision> {
    const wait = Math.min(Math.max(0, maxWaitMs), MAX_TIMER);
    return this.redis
      .script<[number, number]>(TAKE, [this.keyOf(key)], [cost, config.rate, config.per, config.burst, now, wait])
      .then(([allowed, retryAfterMs]) => ({ allowed: allowed === 1, retryAfterMs }));
  }

  refund(key: string, cost: number, config: TokenBucketConfig, now: number): Promise<void> {
    return this.redis.script(REFUND, [this.keyOf(key)], [cost, config.rate, config.per, config.burst, now]).then(() => undefined);
  }

  private keyOf(key: string): string {
    return this.redis.key('ratelimit', tag('ratelimit', key));
  }
}
