import type { RunContext } from '../context/run-context.js';
import { toError } from '../errors/non-error-thrown.js';
import type { CacheSetFailure } from '../events/event-types.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { isThenable } from '../internal/is-thenable.js';
import { Scope } from '../internal/scope.js';
import { awaitStore } from '../internal/await-store.js';
import { checkClock, currentClock, type Clock } from '../clock/clock.js';
import { errorFromJson, errorToJson, type ErrorJson } from '../internal/error-json.js';
import { fail, optionalBoolean, optionalFunction, optionalNumber, optionsObject, primitiveName, shapeOf } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import { checkStore, type CacheStore } from './cache-store.js';
import { LruStore, type Entry } from './lru-store.js';
import { jsonSerializer, type CacheSerializer } from './serializer.js';
import { canonicalize, sha256Hex } from './stable-hash.js';

/**
 * Options for {@link cache} and {@link Cache}.
 *
 * Values and errors: a value is cached for `ttlMs`; errors are not cached unless `cacheErrors` is
 * on (or `errorTtlMs` is set). `undefined` and `null` results are cached like any other value.
 *
 * Serialisation: the in-memory store keeps values **by reference**, so mutating a result mutates
 * the cached copy (set `clone: true` to `structuredClone` on write and on every hit). A remote store
 * gets a string made by `serializer` (default {@link jsonSerializer}: JSON that round-trips Date,
 * bigint, Map, Set and undefined); values over `maxValueBytes` are not cached (`cache.set` event
 * with `reason: 'too_large'`), and a cached error comes back as an `Error` with its name, message
 * and `code`.
 */
export interface CacheOptions<I = unknown, O = unknown> {
  /**
   * Part of every key, so caches sharing a store never collide. Also the `cache` field of events.
   * @default the primitive's name (required for `new Cache()`)
   */
  readonly namespace?: string;
  /**
   * Part of every key: bump it on deploy to ignore (and let expire) every entry written before.
   * @default 1
   */
  readonly version?: number | string;
  /**
   * Derives the key from the input and run context, e.g. `(q, ctx) => `${ctx.attributes.tenant}:${q.id}``.
   * Its result is hashed too: the store never sees raw input.
   * @default stableHash(input): SHA-256 of a canonical JSON with sorted keys
   */
  readonly key?: (input: I, ctx: RunContext) => string;
  /**
   * How long a value stays fresh, in ms. `Infinity` keeps it until evicted; 0 never stores values
   * (only coalesces concurrent calls).
   * @default 60_000
   */
  readonly ttlMs?: number;
  /**
   * How long a cached error stays, in ms. Setting it turns `cacheErrors` on.
   * @default 1_000
   */
  readonly errorTtlMs?: number;
  /**
   * Whether (or which) errors to cache. Aborts and errors from a background refresh are never cached.
   * @default false (true when `errorTtlMs` is set)
   */
  readonly cacheErrors?: boolean | ((error: Error) => boolean);
  /**
   * For this long after a value expires, serve it (`stale`) and refresh it in the background;
   * a failed refresh keeps the stale value and emits `cache.refresh` with `ok: false`.
   * @default 0
   */
  readonly staleWhileRevalidateMs?: number;
  /**
   * Where entries live: an {@link LruStore}, a `Keyv` instance (any Keyv adapter, e.g. `@keyv/redis`),
   * or anything with `get`/`set`/`delete`. See {@link CacheStore}.
   * @default a new LruStore({ max, maxSize, sizeCalculation })
   */
  readonly store?: CacheStore;
  /**
   * Entry limit of the default in-memory store. Not allowed together with `store`.
   * @default 1000
   */
  readonly max?: number;
  /**
   * Size limit of the default in-memory store, in the unit of `sizeCalculation`. Not allowed with `store`.
   * @default undefined (no size limit)
   */
  readonly maxSize?: number;
  /**
   * The size of a value, for `maxSize`.
   * @default the length of its JSON encoding
   */
  readonly sizeCalculation?: (value: O) => number;
  /**
   * In-memory store only: `structuredClone` values when storing and on every hit, so callers can
   * mutate results safely (values must then be structured-cloneable).
   * @default false (values are shared by reference: mutations leak into the cache)
   */
  readonly clone?: boolean;
  /**
   * Remote stores only: encodes entries to strings.
   * @default jsonSerializer
   */
  readonly serializer?: CacheSerializer;
  /**
   * A store read slower than this (or than the run's remaining time) counts as a miss with
   * `store_error`, and the step runs.
   * @default 100
   */
  readonly storeTimeoutMs?: number;
  /**
   * Values whose serialised form is larger are not cached. Always measured for remote stores;
   * for the in-memory store only when you set it (measured as JSON, which costs a serialisation per write).
   * @default 1_048_576
   */
  readonly maxValueBytes?: number;
  /** The clock that stamps and expires entries (TTL, stale-while-revalidate) and bounds store reads. @default the current clock (`useClock`) */
  readonly clock?: Clock;
}

/** What {@link cache} accepts: options, or a shared {@link Cache} handle. */
export type CacheArg<I, O> = CacheOptions<I, O> | Cache<I, O>;

const DEFAULTS = {
  version: 1,
  ttlMs: 60_000,
  errorTtlMs: 1_000,
  cacheErrors: false,
  staleWhileRevalidateMs: 0,
  max: 1000,
  clone: false,
  serializer: jsonSerializer,
  storeTimeoutMs: 100,
  maxValueBytes: 1_048_576,
} as const satisfies Required<Pick<CacheOptions, 'version' | 'ttlMs' | 'errorTtlMs' | 'cacheErrors' | 'staleWhileRevalidateMs' | 'max' | 'clone' | 'serializer' | 'storeTimeoutMs' | 'maxValueBytes'>>;

const KNOWN = ['namespace', 'version', 'key', 'ttlMs', 'errorTtlMs', 'cacheErrors', 'staleWhileRevalidateMs', 'store', 'max', 'maxSize', 'sizeCalculation', 'clone', 'serializer', 'storeTimeoutMs', 'maxValueBytes', 'clock'] as const;
const VERSION = /^[A-Za-z0-9_.-]{1,32}$/;
/** Bound on each key memo; cleared when full, which is cheap and keeps memory flat. */
const MEMO_MAX = 2048;
/** Longer canonical strings are hashed every time rather than kept in the memo. */
const MEMO_MAX_KEY_LENGTH = 512;
const EXEC = Symbol('weft.cache.exec');

type Outcome<O> = { readonly ok: true; readonly value: O } | { readonly ok: false; readonly error: Error };

/** One shared execution of the step for a key. */
interface Flight<O> {
  promise: Promise<Outcome<O>>;
  readonly scope: Scope;
  /** Callers still waiting; when it drops to 0 by aborts, the shared call is aborted. */
  waiters: number;
  settled: boolean;
  /** A stale-while-revalidate refresh: nobody waits on it, so it is never aborted. */
  readonly refresh: boolean;
  /** Set by invalidate/clear: the result must not be stored. */
  discard: boolean;
}

interface SerialisedEntry {
  v?: unknown;
  e?: ErrorJson;
  t: number;
  x: number | null;
}

/**
 * A cache handle: the store, key scheme and policy of {@link cache}, shareable and invalidatable.
 * Use one handle per cached function (or give each its own `namespace`): the key is derived from
 * the input only, so two functions sharing a handle would read each other's entries.
 *
 * @example
 * ```ts
 * const users = new Cache<string, User>({ namespace: 'users', ttlMs: 60_000, store: keyv });
 * const getUser = cache(fetchUser, users); // or fetchUser.cache(users)
 * await users.invalidate('42');           // after an update
 * ```
 */
export class Cache<I = unknown, O = unknown> {
  /** Recognises instances from any installed copy of `@weft/core`, so a shared one is never silently replaced. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[Symbol.for('weft.cache.v1')] === true;
  }
  /** Part of every key and the `cache` field of events. */
  readonly namespace: string;
  /** Part of every key. */
  readonly version: string;
  /** The store in use. */
  readonly store: CacheStore;

  private readonly prefix: string;
  private readonly keyFn: ((input: I, ctx: RunContext) => string) | undefined;
  /** The store keeps entry objects by reference (an LruStore), instead of serialised strings. */
  private readonly raw: boolean;
  private readonly ttlMs: number;
  private readonly errorTtlMs: number;
  private readonly cacheErrors: ((error: Error) => boolean) | undefined;
  private readonly swrMs: number;
  private readonly storeTimeoutMs: number;
  private readonly maxValueBytes: number;
  private readonly measure: boolean;
  private readonly clone: boolean;
  private readonly serializer: CacheSerializer;
  private readonly clockOption: Clock | undefined;
  /** Counts of lookups by runs, for {@link Cache.stats}. */
  private readonly counts = { hits: 0, misses: 0, stale: 0, storeErrors: 0, sets: 0, failedSets: 0 };
  private readonly inflight = new Map<string, Flight<O>>();
  /** Input (string, number, ...) to store key, for the default key. */
  private readonly primitiveMemo = new Map<unknown, string>();
  /** Canonical string or custom key to store key. */
  private readonly stringMemo = new Map<string, string>();

  constructor(options: CacheOptions<I, O>) {
    const o = optionsObject('options', options, KNOWN, 'cache');
    this.clockOption = checkClock('clock', o['clock']);
    this.namespace = primitiveName('namespace', o['namespace']);
    const version = o['version'] ?? DEFAULTS.version;
    if (!(typeof version === 'number' ? Number.isInteger(version) && version >= 0 : typeof version === 'string' && VERSION.test(version))) {
      fail('version', 'a non-negative integer or 1-32 characters from [A-Za-z0-9_.-]', version);
    }
    this.version = typeof version === 'number' ? version.toString() : (version as string);
    this.prefix = `weft:${this.namespace}:v${this.version}:`;
    this.keyFn = optionalFunction('key', o['key']);
    this.ttlMs = optionalNumber('ttlMs', o['ttlMs'], { min: 0, finite: false }) ?? DEFAULTS.ttlMs;
    const errorTtlMs = optionalNumber('errorTtlMs', o['errorTtlMs'], { min: 0, finite: false });
    this.errorTtlMs = errorTtlMs ?? DEFAULTS.errorTtlMs;
    const cacheErrors = o['cacheErrors'] ?? (errorTtlMs !== undefined ? true : DEFAULTS.cacheErrors);
    if (typeof cacheErrors === 'function') this.cacheErrors = cacheErrors as (error: Error) => boolean;
    else if (typeof cacheErrors === 'boolean') this.cacheErrors = cacheErrors ? always : undefined;
    else fail('cacheErrors', 'a boolean or a function', cacheErrors);
    this.swrMs = optionalNumber('staleWhileRevalidateMs', o['staleWhileRevalidateMs'], { min: 0, finite: false }) ?? DEFAULTS.staleWhileRevalidateMs;
    this.storeTimeoutMs = optionalNumber('storeTimeoutMs', o['storeTimeoutMs'], { min: 0, max: 2_147_483_647 }) ?? DEFAULTS.storeTimeoutMs;
    const maxValueBytes = optionalNumber('maxValueBytes', o['maxValueBytes'], { min: 1, finite: false });
    this.maxValueBytes = maxValueBytes ?? DEFAULTS.maxValueBytes;
    const clone = optionalBoolean('clone', o['clone']);
    const serializer = o['serializer'];

    if (o['store'] !== undefined) {
      this.store = checkStore('store', o['store']);
      for (const k of ['max', 'maxSize', 'sizeCalculation'] as const) {
        if (o[k] !== undefined) fail(k, 'unset when `store` is given (configure the store itself)', o[k]);
      }
    } else {
      this.store = new LruStore({
        max: o['max'] as number | undefined,
        maxSize: o['maxSize'] as number | undefined,
        sizeCalculation: o['sizeCalculation'] as ((value: unknown) => number) | undefined,
      });
    }
    this.raw = this.store instanceof LruStore;
    if (this.raw) {
      if (serializer !== undefined) fail('serializer', 'unset with the in-memory store (it keeps values by reference)', serializer);
      this.serializer = jsonSerializer;
      this.measure = maxValueBytes !== undefined && maxValueBytes !== Infinity;
    } else {
      if (clone !== undefined) fail('clone', 'unset with a remote store (its values are always copies)', clone);
      if (serializer !== undefined) {
        const s = shapeOf<CacheSerializer>(serializer);
        if (s === undefined || typeof s.serialize !== 'function' || typeof s.deserialize !== 'function') {
          fail('serializer', 'an object with serialize and deserialize functions', serializer);
        }
      }
      this.serializer = (serializer as CacheSerializer | undefined) ?? DEFAULTS.serializer;
      this.measure = this.maxValueBytes !== Infinity;
    }
    this.clone = clone ?? DEFAULTS.clone;
  }

  /**
   * The store key for an input: `weft:<namespace>:v<version>:<sha256>`. Pass the run context when
   * a custom `key` function reads it. Throws a TypeError for inputs {@link stableHash} cannot hash.
   *
   * @example
   * ```ts
   * users.keyFor('42'); // 'weft:users:v1:73475cb4...'
   * ```
   */
  keyFor(input: I, ctx?: RunContext): string {
    const keyFn = this.keyFn;
    if (keyFn !== undefined) {
      const raw = keyFn(input, ctx as RunContext);
      if (typeof raw !== 'string') throw new TypeError(`Expected \`key\` to return a string, got ${typeof raw}`);
      return this.hashString(raw);
    }
    const t = typeof input;
    if (t === 'string' || t === 'number' || t === 'boolean' || input === undefined || input === null) {
      const memo = this.primitiveMemo;
      let key = memo.get(input);
      if (key === undefined) {
        key = this.prefix + sha256Hex(canonicalize(input));
        if (memo.size >= MEMO_MAX) memo.clear();
        memo.set(input, key);
      }
      return key;
    }
    return this.hashString(canonicalize(input));
  }

  /**
   * Removes the entry for an input, and makes a call in flight for it not store its result.
   * Rejects when the store fails.
   *
   * @example
   * ```ts
   * await db.updateUser(id, patch);
   * await users.invalidate(id);
   * ```
   */
  invalidate(input: I, ctx?: RunContext): Promise<void> {
    try {
      const key = this.keyFor(input, ctx);
      const flight = this.inflight.get(key);
      if (flight !== undefined) {
        flight.discard = true;
        this.inflight.delete(key);
      }
      return Promise.resolve(this.store.delete(key)).then(noop);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /**
   * Empties the store (all of it: namespaces sharing the store are cleared too; to drop only this
   * cache's entries, bump `version`). Rejects when the store has no `clear()` or it fails.
   *
   * @example
   * ```ts
   * await users.clear();
   * ```
   */
  clear(): Promise<void> {
    for (const flight of this.inflight.values()) flight.discard = true;
    this.inflight.clear();
    const store = this.store;
    if (typeof store.clear !== 'function') return Promise.reject(new TypeError('This cache store has no clear() method'));
    try {
      return Promise.resolve(store.clear()).then(noop);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /**
   * The cached value for `input`, without running the step: undefined when there is none, it has
   * expired (stale values count as expired here), or the step's error was cached. Rejects when
   * the store fails or does not answer within `storeTimeoutMs`.
   *
   * @example
   * ```ts
   * const profile = await users.get('42'); // undefined on a miss
   * ```
   */
  async get(input: I, ctx?: RunContext): Promise<O | undefined> {
    return this.freshValue(await this.read(this.keyFor(input, ctx), false));
  }

  /** Like {@link Cache.get}, but an in-memory store does not count it as a use (its LRU order is unchanged). */
  async peek(input: I, ctx?: RunContext): Promise<O | undefined> {
    return this.freshValue(await this.read(this.keyFor(input, ctx), true));
  }

  /** Whether a fresh value is cached for `input`. */
  async has(input: I, ctx?: RunContext): Promise<boolean> {
    const entry = await this.read(this.keyFor(input, ctx), true);
    return entry !== undefined && !entry.e && this.now() < entry.x;
  }

  /** The value of a fresh, successful entry (a copy when `clone`), else undefined. */
  private freshValue(entry: Entry | undefined): O | undefined {
    if (entry === undefined || entry.e || this.now() >= entry.x) return undefined;
    return (this.clone ? structuredClone(entry.v) : entry.v) as O;
  }

  /**
   * How long the cached value for `input` stays fresh, in ms: undefined when there is none,
   * Infinity when it never expires.
   */
  async ttl(input: I, ctx?: RunContext): Promise<number | undefined> {
    const entry = await this.read(this.keyFor(input, ctx), true);
    if (entry === undefined || entry.e) return undefined;
    const left = entry.x - this.now();
    return left > 0 ? left : undefined;
  }

  /**
   * Stores `value` for `input` as if the step had returned it, for `ttlMs` (default: the cache's
   * own). Rejects when it cannot be stored (the store fails, the value is too large or cannot be
   * serialised).
   *
   * @example
   * ```ts
   * await users.set(user.id, user); // warm the cache after a write
   * ```
   */
  set(input: I, value: O, options?: { readonly ttlMs?: number }, ctx?: RunContext): Promise<void> {
    try {
      const o = optionsObject('options', options, ['ttlMs'], 'cache.set');
      const ttlMs = optionalNumber('ttlMs', o['ttlMs'], { min: 0, finite: false }) ?? this.ttlMs;
      const key = this.keyFor(input, ctx);
      const flight = this.inflight.get(key);
      if (flight !== undefined) flight.discard = true; // the value set here wins over a call in flight
      return this.put(key, value, ttlMs);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /** Removes the entry for `input`; resolves true when one was there. Like {@link Cache.invalidate}. */
  async delete(input: I, ctx?: RunContext): Promise<boolean> {
    const key = this.keyFor(input, ctx);
    const flight = this.inflight.get(key);
    if (flight !== undefined) {
      flight.discard = true;
      this.inflight.delete(key);
    }
    return (await this.store.delete(key)) === true;
  }

  /**
   * Counts of this cache's lookups by runs (`hits`, `misses`, `stale` served while refreshing,
   * `storeErrors`) and of writes (`sets`, `failedSets`), since it was built. The handle's own
   * `get`/`peek`/`has` are not counted.
   */
  stats(): { readonly hits: number; readonly misses: number; readonly stale: number; readonly storeErrors: number; readonly sets: number; readonly failedSets: number; readonly hitRatio: number } {
    const c = this.counts;
    const lookups = c.hits + c.stale + c.misses + c.storeErrors;
    return { ...c, hitRatio: lookups === 0 ? 0 : (c.hits + c.stale) / lookups };
  }

  /** The time on this cache's clock. */
  private now(): number {
    return (this.clockOption ?? currentClock()).now();
  }

  /** Reads and decodes the entry under `key`, bounded by `storeTimeoutMs`; rejects when the store fails. */
  private async read(key: string, peek: boolean): Promise<Entry | undefined> {
    const store = this.store;
    const got: unknown = peek && store instanceof LruStore ? store.peek(key) : store.get(key);
    let raw: unknown = got;
    if (isThenable(got)) {
      const answer = await awaitStore(got, { ms: this.storeTimeoutMs, what: 'The cache store', clock: this.clockOption });
      if (!answer.ok) throw answer.error;
      raw = answer.value;
    }
    return this.raw ? ((raw ?? undefined) as Entry | undefined) : this.decode(raw);
  }

  /** Writes `value` under `key` for `ttlMs` now, and says whether it worked. */
  private put(key: string, value: O, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return Promise.resolve();
    const now = this.now();
    const x = now + ttlMs;
    let payload: unknown;
    if (this.raw) {
      const v = this.clone ? structuredClone(value) : value;
      payload = { v, e: false, t: now, x } satisfies Entry;
    } else {
      const text = this.serializer.serialize({ v: value, t: now, x: finite(x) } satisfies SerialisedEntry);
      if (typeof text !== 'string') return Promise.reject(new TypeError('The cache serializer did not return a string'));
      if (this.measure && Buffer.byteLength(text) > this.maxValueBytes) return Promise.reject(tooLarge(Buffer.byteLength(text), this.maxValueBytes));
      payload = text;
    }
    // In memory, expiry is the entry's own `x`, checked on every read: lru-cache gets no TTL, so its
    // get reads no clock (one clock read per hit instead of two). An expired entry stays until it is
    // overwritten or evicted by `max`, as it did before (no autopurge).
    const storeTtl = ttlMs === Infinity || this.raw ? undefined : ttlMs + this.swrMs;
    return Promise.resolve(this.store.set(key, payload, storeTtl)).then((ok) => {
      if (ok === false) throw new Error('The cache store refused the write');
    });
  }

  private hashString(text: string): string {
    const memo = this.stringMemo;
    let key = memo.get(text);
    if (key === undefined) {
      key = this.prefix + sha256Hex(text);
      if (text.length <= MEMO_MAX_KEY_LENGTH) {
        if (memo.size >= MEMO_MAX) memo.clear();
        memo.set(text, key);
      }
    }
    return key;
  }

  /** @internal Runs `inner` through the cache. */
  [EXEC](inner: Exec<I, O>, input: I, ctx: Ctx): Promise<O> {
    const scope = ctx.scope;
    if (scope.aborted) return Promise.reject(abortReasonError(scope.reason));
    let key: string;
    try {
      key = this.keyFor(input, ctx);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    let got: unknown;
    try {
      got = this.store.get(key);
    } catch (error) {
      return this.miss(inner, key, input, ctx, error);
    }
    if (isThenable(got)) return this.lookupAsync(inner, key, input, ctx, got);
    let entry: Entry | undefined;
    if (this.raw) entry = got as Entry | undefined;
    else {
      try {
        entry = this.decode(got);
      } catch (error) {
        return this.miss(inner, key, input, ctx, error);
      }
    }
    return this.answer(inner, key, input, ctx, entry);
  }

  /** Decides hit, stale or miss for what the store returned. */
  private answer(inner: Exec<I, O>, key: string, input: I, ctx: Ctx, entry: Entry | undefined): Promise<O> {
    if (entry !== undefined) {
      const now = this.now();
      if (now < entry.x) {
        this.counts.hits++;
        if (listening()) emit(ctx, 'cache', { type: 'cache.request', cache: this.namespace, result: 'hit' });
        if (entry.e) return Promise.reject(entry.v);
        return Promise.resolve((this.clone ? structuredClone(entry.v) : entry.v) as O);
      }
      if (!entry.e && now < entry.x + this.swrMs) {
        this.counts.stale++;
        if (listening()) emit(ctx, 'cache', { type: 'cache.request', cache: this.namespace, result: 'stale' });
        if (!this.inflight.has(key)) this.refresh(inner, key, input, ctx);
        return Promise.resolve((this.clone ? structuredClone(entry.v) : entry.v) as O);
      }
    }
    return this.miss(inner, key, input, ctx, undefined);
  }

  /** Waits for an asynchronous store read, bounded by storeTimeoutMs, the deadline and the caller's scope. */
  private lookupAsync(inner: Exec<I, O>, key: string, input: I, ctx: Ctx, got: PromiseLike<unknown>): Promise<O> {
    // An identical call is already running here: join it rather than read the store again.
    const flight = this.inflight.get(key);
    if (flight !== undefined && !flight.refresh) {
      got.then(noop, noop);
      this.counts.misses++;
      if (listening()) emit(ctx, 'cache', { type: 'cache.request', cache: this.namespace, result: 'miss', coalesced: true });
      return this.join(key, flight, ctx.scope);
    }
    const scope = ctx.scope;
    const ms = Math.min(this.storeTimeoutMs, ctx.remaining());
    return awaitStore(got, { ms, what: 'The cache store', scope, clock: this.clockOption }).then((answer) => {
      if (!answer.ok) return this.miss(inner, key, input, ctx, answer.error);
      let entry: Entry | undefined;
      try {
        entry = this.raw ? (answer.value as Entry | undefined) : this.decode(answer.value);
      } catch (error) {
        return this.miss(inner, key, input, ctx, error);
      }
      return this.answer(inner, key, input, ctx, entry);
    });
  }

  /** No usable entry: join the call in flight for this key, or start one. `storeError` is set when the read failed. */
  private miss(inner: Exec<I, O>, key: string, input: I, ctx: Ctx, storeError: unknown): Promise<O> {
    let flight = this.inflight.get(key);
    const coalesced = flight !== undefined;
    if (storeError === undefined) this.counts.misses++;
    else this.counts.storeErrors++;
    if (listening()) {
      emit(ctx, 'cache', storeError === undefined
        ? { type: 'cache.request', cache: this.namespace, result: 'miss', coalesced }
        : { type: 'cache.request', cache: this.namespace, result: 'store_error', error: toError(storeError), coalesced });
    }
    if (flight === undefined) flight = this.start(inner, key, input, ctx, false);
    return this.join(key, flight, ctx.scope);
  }

  /**
   * Starts the shared call in a root scope of its own: no single caller's abort reaches it; it is
   * aborted when every waiting caller has left (see `leave`). It carries no deadline either, since
   * callers with later deadlines may join; each caller's own deadline still ends that caller's wait.
   */
  private start(inner: Exec<I, O>, key: string, input: I, ctx: Ctx, refresh: boolean): Flight<O> {
    const scope = new Scope();
    const flight: Flight<O> = { promise: undefined as unknown as Promise<Outcome<O>>, scope, waiters: 0, settled: false, refresh, discard: false };
    this.inflight.set(key, flight);
    let p: Promise<O>;
    try {
      p = inner(input, ctx.with({ scope, deadline: undefined }));
    } catch (error) {
      p = Promise.reject(toError(error));
    }
    flight.promise = p.then(
      (value): Outcome<O> => {
        this.finish(key, flight);
        if (!flight.discard) this.write(key, value, false, ctx);
        return { ok: true, value };
      },
      (thrown: unknown): Outcome<O> => {
        const error = toError(thrown);
        this.finish(key, flight);
        if (!flight.discard && !refresh && !scope.aborted && this.shouldCacheError(error)) this.write(key, error, true, ctx);
        return { ok: false, error };
      },
    );
    return flight;
  }

  private finish(key: string, flight: Flight<O>): void {
    flight.settled = true;
    if (this.inflight.get(key) === flight) this.inflight.delete(key);
    flight.scope.dispose();
  }

  /** One caller's wait on a shared call: it leaves at once, with its own reason, when its scope aborts. */
  private join(key: string, flight: Flight<O>, scope: Scope): Promise<O> {
    flight.waiters++;
    return new Promise<O>((resolve, reject) => {
      const off = scope.onAbort((reason) => {
        this.leave(key, flight, reason);
        reject(abortReasonError(reason));
      });
      // A flight's promise never rejects: it resolves with { ok, value | error }.
      void flight.promise.then((out) => {
        off();
        if (out.ok) resolve(out.value);
        else reject(out.error);
      });
    });
  }

  private leave(key: string, flight: Flight<O>, reason: unknown): void {
    flight.waiters--;
    if (flight.waiters > 0 || flight.settled || flight.refresh) return;
    // Everyone left: cancel the shared call, and let the next caller start afresh.
    if (this.inflight.get(key) === flight) this.inflight.delete(key);
    flight.scope.abort(reason);
  }

  /** A stale-while-revalidate refresh. Its outcome only ever reaches the `cache.refresh` event. */
  private refresh(inner: Exec<I, O>, key: string, input: I, ctx: Ctx): void {
    const flight = this.start(inner, key, input, ctx, true);
    const namespace = this.namespace;
    void flight.promise.then((out) => {
      if (listening()) emit(ctx, 'cache', out.ok ? { type: 'cache.refresh', cache: namespace, ok: true } : { type: 'cache.refresh', cache: namespace, ok: false, error: out.error });
    });
  }

  private shouldCacheError(error: Error): boolean {
    const predicate = this.cacheErrors;
    if (predicate === undefined) return false;
    try {
      return predicate(error) === true;
    } catch {
      return false;
    }
  }

  /** Stores an outcome in the background. Never throws and never rejects; reports `cache.set`. */
  private write(key: string, value: unknown, isError: boolean, ctx: Ctx): void {
    const ttl = isError ? this.errorTtlMs : this.ttlMs;
    if (ttl <= 0) return;
    const now = this.now();
    const x = now + ttl;
    const storeTtl = isError ? ttl : ttl + this.swrMs;
    let payload: unknown;
    let bytes: number | undefined;
    if (this.raw) {
      let v = value;
      if (!isError) {
        if (this.measure) {
          try {
            const text = jsonSerializer.serialize(v);
            bytes = typeof text === 'string' ? Buffer.byteLength(text) : 0;
          } catch (error) {
            return this.reportSet(ctx, false, isError, 'unserializable', undefined, error);
          }
          if (bytes > this.maxValueBytes) return this.reportSet(ctx, false, isError, 'too_large', bytes, tooLarge(bytes, this.maxValueBytes));
        }
        if (this.clone) {
          try {
            v = structuredClone(v);
          } catch (error) {
            return this.reportSet(ctx, false, isError, 'unserializable', undefined, error);
          }
        }
      }
      const entry: Entry = { v, e: isError, t: now, x };
      payload = entry;
    } else {
      const entry: SerialisedEntry = isError ? { e: errorToJson(value as Error), t: now, x: finite(x) } : { v: value, t: now, x: finite(x) };
      let text: unknown;
      try {
        text = this.serializer.serialize(entry);
      } catch (error) {
        return this.reportSet(ctx, false, isError, 'unserializable', undefined, error);
      }
      if (typeof text !== 'string') return this.reportSet(ctx, false, isError, 'unserializable', undefined, new TypeError('The cache serializer did not return a string'));
      if (this.measure) {
        bytes = Buffer.byteLength(text);
        if (bytes > this.maxValueBytes) return this.reportSet(ctx, false, isError, 'too_large', bytes, tooLarge(bytes, this.maxValueBytes));
      }
      payload = text;
    }
    let r: unknown;
    try {
      r = this.store.set(key, payload, storeTtl === Infinity || this.raw ? undefined : storeTtl);
    } catch (error) {
      return this.reportSet(ctx, false, isError, 'store_error', bytes, error);
    }
    if (isThenable(r)) {
      // No timer here: a hanging write holds nothing but its own promise, and reports nothing.
      r.then(
        (ok) => (ok === false ? this.reportSet(ctx, false, isError, 'store_error', bytes, new Error('The cache store refused the write')) : this.reportSet(ctx, true, isError, undefined, bytes, undefined)),
        (error: unknown) => this.reportSet(ctx, false, isError, 'store_error', bytes, error),
      );
    } else if (r === false) this.reportSet(ctx, false, isError, 'store_error', bytes, new Error('The cache store refused the write'));
    else this.reportSet(ctx, true, isError, undefined, bytes, undefined);
  }

  private reportSet(ctx: Ctx, ok: boolean, isError: boolean, reason: CacheSetFailure | undefined, bytes: number | undefined, error: unknown): void {
    if (ok) this.counts.sets++;
    else this.counts.failedSets++;
    if (!listening()) return;
    emit(ctx, 'cache', ok
      ? { type: 'cache.set', cache: this.namespace, ok, isError, bytes }
      : { type: 'cache.set', cache: this.namespace, ok, isError, reason, bytes, error: toError(error) });
  }

  /** Reads a serialised entry; throws when it is malformed. */
  private decode(raw: unknown): Entry | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'string') throw new TypeError(`Malformed cache entry: expected a string, got ${typeof raw}`);
    const o = this.serializer.deserialize(raw) as Partial<SerialisedEntry> | null;
    if (typeof o !== 'object' || o === null || typeof o.t !== 'number' || !(typeof o.x === 'number' || o.x === null)) {
      throw new TypeError('Malformed cache entry');
    }
    const x = o.x === null ? Infinity : o.x;
    if (o.e !== undefined) {
      const e = o.e;
      if (typeof e !== 'object' || e === null || typeof e.message !== 'string') throw new TypeError('Malformed cache entry');
      return { v: errorFromJson(e), e: true, t: o.t, x };
    }
    return { v: o.v, e: false, t: o.t, x };
  }
}

function always(): boolean {
  return true;
}

function noop(): void {}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function tooLarge(bytes: number, max: number): RangeError {
  return new RangeError(`Value of ${bytes} bytes exceeds \`maxValueBytes\` (${max})`);
}

/**
 * Caches a primitive's results by input, with single-flight, TTLs, stale-while-revalidate and a
 * pluggable store (in-memory {@link LruStore} by default; any `Keyv` instance, e.g. Redis).
 *
 * - **Keys** are `weft:<namespace>:v<version>:<sha256>` of {@link stableHash}(input), or of your
 *   `key(input, ctx)`: the store never sees raw input. Object key order does not matter.
 * - **Single-flight**: concurrent calls with the same key run the step once and share its outcome.
 *   The shared call runs in its own scope: one caller aborting leaves at once with its own reason
 *   while the others keep waiting; only when all of them have left is the shared call aborted.
 * - **Store failures never fail the call**: a store that throws, answers garbage or is slower than
 *   `storeTimeoutMs` counts as a miss (`cache.request` with `store_error`) and the step runs.
 *   Writes happen in the background and report `cache.set`; no timer outlives a call.
 * - **Events**: `cache.request` (`hit` | `miss` | `stale` | `store_error`), `cache.set`, `cache.refresh`.
 *
 * @example
 * ```ts
 * const getRates = cache(fetchRates, { ttlMs: 30_000, staleWhileRevalidateMs: 300_000 });
 * // or fetchRates.cache({ ttlMs: 30_000 }); a Redis store: { store: new Keyv(new KeyvRedis(url)) }
 * await getRates.run('EUR');
 * ```
 */
export function cache<I, O>(primitive: Primitive<I, O>, options?: CacheArg<I, O>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  let handle: Cache<I, O>;
  if (options instanceof Cache) handle = options;
  else {
    const o = optionsObject('options', options) as CacheOptions<I, O>;
    handle = new Cache<I, O>(o.namespace === undefined ? { ...o, namespace: primitive.name } : o);
  }
  const inner = primitive.exec;
  const exec: Exec<I, O> = (input, ctx) => handle[EXEC](inner, input, ctx);
  return new Primitive(primitive.name, 'cache', exec);
}

Object.defineProperty(Cache.prototype, Symbol.for('weft.cache.v1'), { value: true });
