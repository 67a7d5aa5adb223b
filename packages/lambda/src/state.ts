import type { BudgetStore, CircuitBreaker, CircuitBreakerSnapshot, RateLimitStore } from '@weft/core';
import type { WeftRedis } from '@weft/redis';

/**
 * Where breaker state is kept between invocations when there is no Redis: anything with an async
 * `get` and `set` of strings (DynamoDB, S3, SSM, a file on EFS).
 *
 * @example
 * ```ts
 * const table = new Map<string, string>();
 * const store: BreakerStateStore = { get: async (k) => table.get(k), set: async (k, v) => void table.set(k, v) };
 * ```
 */
export interface BreakerStateStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/** Options for {@link LambdaState.create}. */
export interface LambdaStateOptions {
  /**
   * Redis for breakers, budgets and rate limits. Loaded only when set, so a function without Redis
   * never pays for its client at cold start.
   * @default process.env.REDIS_URL
   */
  readonly redisUrl?: string;
  /** Key prefix in Redis. @default 'weft' */
  readonly prefix?: string;
  /** Without Redis: where breaker snapshots are kept. @default none (state lives only as long as the container) */
  readonly breakerStore?: BreakerStateStore;
  /** Longest wait for the breaker store when loading or saving; a slower store is skipped. @default 250 */
  readonly storeTimeoutMs?: number;
}

/** How state survives between invocations. */
export type StateMode = 'redis' | 'store' | 'memory';

function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  // The timer is cleared either way: nothing outlives the invocation.
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * State that survives between invocations. With Redis (`REDIS_URL`): budgets and rate limits use
 * the Redis stores (pass {@link LambdaState.budgetStore} and {@link LambdaState.rateLimitStore}
 * to `budget()` and `RateLimiter`), and each registered breaker is restored from Redis before an
 * invocation and saved after it, so every container shares one breaker. Without Redis, breakers
 * go through the {@link BreakerStateStore} you supply, and budgets and rate limits are per
 * container. Nothing runs between invocations: no timer, no subscription, so a frozen function
 * loses nothing.
 *
 * What a cold start loses: with Redis, nothing (a new container reads the shared state); with a
 * breaker store, budgets and rate limits (per container, from zero); in memory, everything.
 *
 * @example
 * ```ts
 * const state = await LambdaState.create();
 * const breaker = state.breaker(new CircuitBreaker({ name: 'provider', threshold: 3, openMs: 30_000 }));
 * ```
 */
export class LambdaState {
  private readonly breakers: CircuitBreaker[] = [];
  /** Failed loads and saves of breaker state (the invocation went on with what it had). */
  storeErrors = 0;

  private constructor(
    readonly mode: StateMode,
    private readonly store: BreakerStateStore | undefined,
    private readonly timeoutMs: number,
    /** The Redis budget store, with `REDIS_URL`. */
    readonly budgetStore: BudgetStore | undefined,
    /** The Redis rate-limit store, with `REDIS_URL`. */
    readonly rateLimitStore: RateLimitStore | undefined,
    private readonly redis: WeftRedis | undefined,
  ) {}

  /**
   * Builds the state for a function: with `redisUrl` (or `REDIS_URL`) the Redis stores, else the
   * breaker store you give, else memory. Throws a `TypeError` naming a bad option.
   *
   * @example
   * ```ts
   * const state = await LambdaState.create({ breakerStore });
   * ```
   */
  static async create(options: LambdaStateOptions = {}): Promise<LambdaState> {
    if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${String(options)}`);
    const timeoutMs = options.storeTimeoutMs ?? 250;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError(`Expected \`storeTimeoutMs\` to be a positive integer, got ${String(timeoutMs)}`);
    const store = options.breakerStore;
    if (store !== undefined && (typeof store.get !== 'function' || typeof store.set !== 'function')) throw new TypeError('Expected `breakerStore` to have get(key) and set(key, value)');
    const url = options.redisUrl ?? process.env.REDIS_URL;
    if (url !== undefined && url !== '') {
      const { createWeftRedis, RedisBudgetStore, RedisRateLimitStore } = await import('@weft/redis');
      const redis = createWeftRedis({ url, prefix: options.prefix ?? 'weft' });
      const redisStore: BreakerStateStore = {
        get: async (key) => (await redis.command<string | null>(['GET', redis.key('lambda-breaker', key)])) ?? undefined,
        set: async (key, value) => {
          await redis.command(['SET', redis.key('lambda-breaker', key), value, 'PX', String(7 * 86_400_000)]);
        },
      };
      const state = new LambdaState('redis', redisStore, timeoutMs, new RedisBudgetStore(redis), new RedisRateLimitStore(redis), redis);
      // Connect during the cold start (the init phase), not in the first invocation. Unreachable:
      // carry on; each store call then fails in its documented direction (budgets fail closed).
      await redis.ready(Math.max(1_000, timeoutMs * 4)).catch(() => void state.storeErrors++);
      return state;
    }
    return new LambdaState(store === undefined ? 'memory' : 'store', store, timeoutMs, undefined, undefined, undefined);
  }

  /** Registers a breaker whose state is restored before and saved after every invocation; returns it. */
  breaker(breaker: CircuitBreaker): CircuitBreaker {
    this.breakers.push(breaker);
    return breaker;
  }

  /** Restores every registered breaker from the store (the handler calls it before the run). */
  load(): Promise<void> {
    return this.eachBreaker(async (store, b) => {
      const json = await store.get(b.name);
      if (json !== undefined) b.restore(JSON.parse(json) as CircuitBreakerSnapshot);
    });
  }

  /** Saves every registered breaker to the store (the handler calls it after the run). */
  save(): Promise<void> {
    return this.eachBreaker((store, b) => store.set(b.name, JSON.stringify(b.toJSON())));
  }

  /** Runs `io` for every registered breaker, each bounded by `storeTimeoutMs`; a failure is counted, never thrown. */
  private async eachBreaker(io: (store: BreakerStateStore, breaker: CircuitBreaker) => Promise<void>): Promise<void> {
    const store = this.store;
    if (store === undefined) return;
    await Promise.all(
      this.breakers.map(async (b) => {
        try {
          await bounded(io(store, b), this.timeoutMs);
        } catch {
          this.storeErrors++;
        }
      }),
    );
  }

  /** Closes the Redis connection (tests, or a process that ends). */
  async close(): Promise<void> {
    await this.redis?.close();
  }
}
