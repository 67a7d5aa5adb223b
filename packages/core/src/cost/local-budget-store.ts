import { number, optionsObject } from '../internal/validate-options.js';
import type { BudgetCharge, BudgetStore } from './budget-store.js';

/** Options for {@link LocalBudgetStore}. */
export interface LocalBudgetStoreOptions {
  /**
   * How many buckets a window is cut into. A charge expires between `windowMs` and
   * `windowMs + windowMs / buckets` after it was made (late, never early); memory per key is at
   * most `buckets + 1` numbers.
   * @default 60
   */
  readonly buckets?: number;
}

const DEFAULTS = { buckets: 60 } as const satisfies Required<LocalBudgetStoreOptions>;

interface Tally {
  /** Bucket length in ms, fixed by the first call for the key. */
  readonly bucketMs: number;
  /** The longest window any caller asked about, for pruning. */
  windowMs: number;
  /** Bucket index (start / bucketMs) -> amount. */
  readonly buckets: Map<number, number>;
}

/**
 * An in-memory {@link BudgetStore}: rolling windows kept as buckets per key, answering
 * synchronously. The default store of `budget()`. Spend is per process: use a shared store
 * (`@weft/redis`) to share a budget between processes.
 *
 * Memory is bounded: at most `buckets + 1` numbers per key (for one window length per key), and a
 * key whose buckets have all expired is dropped when it is next touched. Keys are budget names,
 * so their number is bounded by the code.
 *
 * @example
 * ```ts
 * const store = new LocalBudgetStore({ buckets: 24 });
 * const daily = budget(chat, { name: 'chat-daily', window: { limit: 50, windowMs: 86_400_000 }, store });
 * ```
 */
export class LocalBudgetStore implements BudgetStore {
  private readonly bucketCount: number;
  private readonly tallies = new Map<string, Tally>();

  constructor(options?: LocalBudgetStoreOptions) {
    const o = optionsObject('options', options, ['buckets'], 'LocalBudgetStore');
    this.bucketCount = number('buckets', o.buckets, DEFAULTS.buckets, { min: 1, max: 10_000, integer: true });
  }

  tryCharge(key: string, amount: number, limit: number, windowMs: number, now: number): BudgetCharge {
    const tally = this.tally(key, windowMs);
    const spent = this.sum(tally, windowMs, now);
    if (spent < limit && spent + amount <= limit) {
      if (amount !== 0) this.add(tally, amount, now);
      return { allowed: true, spent: spent + amount };
    }
    this.dropIfEmpty(key, tally);
    return { allowed: false, spent };
  }

  charge(key: string, amount: number, windowMs: number, at: number, now: number): number {
    const tally = this.tally(key, windowMs);
    const latest = Math.max(at, now);
    // A charge whose bucket has already left every window is dropped.
    if (amount !== 0 && bucketEnd(tally, at) > latest - tally.windowMs) this.add(tally, amount, at);
    const spent = this.sum(tally, windowMs, now);
    this.dropIfEmpty(key, tally);
    return spent;
  }

  spent(key: string, windowMs: number, now: number): number {
    const tally = this.tallies.get(key);
    if (tally === undefined) return 0;
    const spent = this.sum(tally, windowMs, now);
    this.dropIfEmpty(key, tally);
    return spent;
  }

  /** Forgets the spend of `key`, or of every key. */
  reset(key?: string): void {
    if (key === undefined) this.tallies.clear();
    else this.tallies.delete(key);
  }

  private tally(key: string, windowMs: number): Tally {
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = { bucketMs: Math.max(1, Math.ceil(windowMs / this.bucketCount)), windowMs, buckets: new Map() };
      this.tallies.set(key, tally);
    } else if (windowMs > tally.windowMs) {
      tally.windowMs = windowMs;
    }
    return tally;
  }

  private add(tally: Tally, amount: number, at: number): void {
    const index = Math.floor(at / tally.bucketMs);
    tally.buckets.set(index, (tally.buckets.get(index) ?? 0) + amount);
  }

  /** Sums the buckets that overlap the window ending at `now`, and prunes those out of every window. */
  private sum(tally: Tally, windowMs: number, now: number): number {
    const from = now - windowMs;
    const pruneBefore = now - tally.windowMs;
    let total = 0;
    for (const [index, amount] of tally.buckets) {
      const end = (index + 1) * tally.bucketMs;
      if (end <= pruneBefore) tally.buckets.delete(index);
      else if (end > from) total += amount;
    }
    return total > 0 ? total : 0;
  }

  private dropIfEmpty(key: string, tally: Tally): void {
    if (tally.buckets.size === 0) this.tallies.delete(key);
  }
}

function bucketEnd(tally: Tally, at: number): number {
  return (Math.floor(at / tally.bucketMs) + 1) * tally.bucketMs;
}
