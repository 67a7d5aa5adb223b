import { isThenable } from '../internal/is-thenable.js';
import { number, optionsObject } from '../internal/validate-options.js';
import { checkStore, type CacheStore } from './cache-store.js';
import { LruStore } from './lru-store.js';

/** Options for {@link TieredStore}. */
export interface TieredStoreOptions {
  /** Most entries this process keeps a copy of (least recently used evicted first). @default 1000 */
  readonly max?: number;
  /**
   * The longest a local copy lives, in milliseconds, whatever the entry's own TTL. It bounds how
   * long this process may serve an entry that another process deleted or replaced in the shared
   * store, and how long a cached answer outlives an outage of the shared store.
   * @default 60000
   */
  readonly localTtlMs?: number;
}

const DEFAULTS = { max: 1_000, localTtlMs: 60_000 } as const satisfies Required<TieredStoreOptions>;

/**
 * A cache store in two tiers: a small in-process LRU in front of a shared store (Redis, any Keyv).
 * A read is answered from the local copy when there is one, else from the shared store (and the
 * answer copied locally); a write goes to both; a delete removes both.
 *
 * The local tier is what keeps cache hits answering while the shared store is down: an entry this
 * process wrote or read within `localTtlMs` is still served, with no call to the shared store,
 * and only misses fail. It also spares the shared store a round trip per hit. The price is
 * staleness: a delete or overwrite by another process is seen here only once the local copy
 * expires (at most `localTtlMs`). The entry's own expiry is kept by the cache inside the value,
 * so a local copy is never served past the entry's TTL.
 *
 * @example
 * ```ts
 * import { RedisCacheStore } from '@weft/redis';
 * const store = new TieredStore(new RedisCacheStore(redis), { max: 5_000, localTtlMs: 30_000 });
 * const cached = answer.cache({ namespace: 'answers', ttlMs: 300_000, store });
 * ```
 */
export class TieredStore implements CacheStore {
  /** The shared tier. */
  readonly shared: CacheStore;
  private readonly local: LruStore;
  private readonly localTtlMs: number;

  constructor(shared: CacheStore, options?: TieredStoreOptions) {
    this.shared = checkStore('shared', shared);
    const o = optionsObject('options', options, ['max', 'localTtlMs'], 'TieredStore');
    this.local = new LruStore({ max: number('max', o['max'], DEFAULTS.max, { min: 1, integer: true }) });
    this.localTtlMs = number('localTtlMs', o['localTtlMs'], DEFAULTS.localTtlMs, { min: 1, max: 2_147_483_647, integer: true });
  }

  /** The local copy when there is one, else the shared store's answer (copied locally). */
  get(key: string): unknown {
    const near = this.local.get(key);
    if (near !== undefined) return near;
    const far: unknown = this.shared.get(key);
    if (!isThenable(far)) return this.keep(key, far);
    return Promise.resolve(far).then((value) => this.keep(key, value));
  }

  /** Writes the local copy, then the shared store; answers what the shared store answers. */
  set(key: string, value: unknown, ttlMs?: number): unknown {
    this.local.set(key, value, ttlMs === undefined || !(ttlMs > 0) ? this.localTtlMs : Math.min(ttlMs, this.localTtlMs));
    return this.shared.set(key, value, ttlMs);
  }

  /** Removes the local copy and the shared entry. */
  delete(key: string): unknown {
    this.local.delete(key);
    return this.shared.delete(key);
  }

  /** Clears the local tier and, when it can, the whole shared store. */
  clear(): unknown {
    this.local.clear();
    return this.shared.clear?.();
  }

  private keep(key: string, value: unknown): unknown {
    if (value !== undefined && value !== null) this.local.set(key, value, this.localTtlMs);
    return value;
  }
}
