import { toError, type BudgetCharge, type BudgetStore } from '@weft/core';
import { knownOptions, number, optionsObject } from '@weft/core/options';
import { tag } from '../internal/keys.js';
import { defineScript, type WeftRedis } from '../weft-redis.js';

/**
 * Options for {@link RedisBudgetStore}.
 *
 * @example
 * ```ts
 * const options: RedisBudgetStoreOptions = { buckets: 24 };
 * ```
 */
export interface RedisBudgetStoreOptions {
  /**
   * How many buckets a window is cut into. A charge expires between `windowMs` and
   * `windowMs + windowMs / buckets` after it was made (late, never early); each budget is one hash
   * of at most `buckets + 1` fields. Every process sharing a budget must use the same value.
   * @default 60
   */
  readonly buckets?: number;
}

const DEFAULTS = { buckets: 60 } as const satisfies Required<RedisBudgetStoreOptions>;

// Sums the buckets still in the window (pruning the rest), then charges when the budget allows.
// Amounts are integer nano-units (see BudgetStore): HINCRBY adds them exactly, and sums stay exact
// below 2^53 in Lua's numbers. Replies are integers.
const SUM = `
local function spent(key, window, now, bucketMs)
  local from = now - window
  local fields = redis.call('HGETALL', key)
  local total = 0
  for i = 1, #fields, 2 do
    local index = tonumber(fields[i])
    if (index + 1) * bucketMs <= from then redis.call('HDEL', key, fields[i])
    else total = total + tonumber(fields[i + 1]) end
  end
  if total < 0 then return 0 end
  return total
end
-- Only ever lengthens the key's life, so an older charge cannot expire newer buckets early.
local function keep(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, math.ceil(ttl)) end
end
`;

const TRY_CHARGE = defineScript(`${SUM}
local amount, limit, window, now, bucketMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local total = spent(KEYS[1], window, now, bucketMs)
if total < limit and total + amount <= limit then
  if amount ~= 0 then
    redis.call('HINCRBY', KEYS[1], string.format('%d', math.floor(now / bucketMs)), ARGV[1])
    keep(KEYS[1], window + 2 * bucketMs)
  end
  return {1, total + amount}
end
return {0, total}
`);

const CHARGE = defineScript(`${SUM}
local amount, window, at, now, bucketMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local latest = math.max(at, now)
local index = math.floor(at / bucketMs)
if amount ~= 0 and (index + 1) * bucketMs > latest - window then
  redis.call('HINCRBY', KEYS[1], string.format('%d', index), ARGV[1])
  keep(KEYS[1], (index + 1) * bucketMs - now + window + bucketMs)
end
return spent(KEYS[1], window, now, bucketMs)
`);

const SPENT = defineScript(`${SUM}
return spent(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
`);

/**
 * A {@link BudgetStore} in Redis: each budget is a hash of time buckets, charged atomically by a
 * Lua script, so every process of a fleet draws from one rolling-window budget. Plug it into
 * `budget()` from `@weft/core`.
 *
 * **The bound.** `tryCharge` checks and reserves the call's `estimate` in one atomic step, so no
 * interleaving of processes can admit two calls against the same headroom. The window's spend can
 * exceed `limit` only by what calls already admitted spend beyond their estimates:
 * `overspend <= sum over calls in flight of max(0, actual - estimate)`. With an estimate at least
 * the step's real cost it is never overspent; with the default estimate of 0 the overspend is at
 * most one in-flight step's cost per call admitted before the limit was reached (so at most one
 * step's cost when the fleet runs one call of that budget at a time).
 *
 * **Failure.** A call that fails or exceeds the client's `commandTimeoutMs` rejects; `budget()`
 * then fails closed (refuses the call with `BudgetExceededError`, the default) or open
 * (`failOpen: true`), emitting `budget.store_error` either way. Times come from the callers'
 * clocks, so keep hosts NTP-synced: skew shifts when a charge expires by the skew.
 *
 * Keys: `<prefix>:budget:{budget:<name>}` (one key per budget, with a TTL of one window and two
 * buckets). Names that are not plain identifiers (per-API-key names, say) are hashed.
 *
 * @example
 * ```ts
 * const store = new RedisBudgetStore(redis);
 * const chat = budget(callModel, { name: 'chat-daily', window: { limit: 50, windowMs: 86_400_000 }, estimate: 0.02, store });
 * ```
 */
export class RedisBudgetStore implements BudgetStore {
  private readonly buckets: number;

  constructor(
    private readonly redis: WeftRedis,
    options?: RedisBudgetStoreOptions,
  ) {
    const o = optionsObject('options', options);
    knownOptions('RedisBudgetStore', o, ['buckets']);
    this.buckets = number('buckets', o.buckets, DEFAULTS.buckets, { min: 1, max: 10_000, integer: true });
  }

  tryCharge(key: string, amount: number, limit: number, windowMs: number, now: number): Promise<BudgetCharge> {
    let args: string[];
    try {
      args = [nanos('amount', amount), nanos('limit', limit)];
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return this.redis
      .script<[number, number]>(TRY_CHARGE, [this.keyOf(key)], [...args, windowMs, now, this.bucketMs(windowMs)])
      .then(([allowed, spent]) => ({ allowed: allowed === 1, spent }));
  }

  charge(key: string, amount: number, windowMs: number, at: number, now: number): Promise<number> {
    let delta: string;
    try {
      delta = nanos('amount', amount);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return this.redis.script<number>(CHARGE, [this.keyOf(key)], [delta, windowMs, at, now, this.bucketMs(windowMs)]);
  }

  spent(key: string, windowMs: number, now: number): Promise<number> {
    return this.redis.script<number>(SPENT, [this.keyOf(key)], [windowMs, now, this.bucketMs(windowMs)]);
  }

  /**
   * Forgets the spend of one budget.
   *
   * @example
   * ```ts
   * await store.reset('chat-daily');
   * ```
   */
  reset(key: string): Promise<void> {
    return this.redis.command(['DEL', this.keyOf(key)]).then(() => undefined);
  }

  private keyOf(name: string): string {
    return this.redis.key('budget', tag('budget', name));
  }

  private bucketMs(windowMs: number): number {
    return Math.max(1, Math.ceil(windowMs / this.buckets));
  }
}

/** An amount in integer nano-units, as HINCRBY reads it; anything else is a caller's bug. */
function nanos(what: string, value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`Expected \`${what}\` to be a safe integer of nano-units, got ${String(value)}`);
  return String(value);
}
