import { awaitStore } from '@weft/core/stores';
import { createHash } from 'node:crypto';
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from '@redis/client';
import { currentContext, TimeoutError } from '@weft/core';
import { fail, knownOptions, number, optionalFunction, optionsObject } from '@weft/core/options';
import { MAX_TIMER, noop } from './internal/timers.js';
import { prefix as checkPrefix } from './internal/key-prefix.js';

/**
 * Options for {@link createWeftRedis}.
 *
 * @example
 * ```ts
 * const options: WeftRedisOptions = { url: process.env.REDIS_URL, prefix: 'checkout', commandTimeoutMs: 200 };
 * ```
 */
export interface WeftRedisOptions {
  /**
   * The server to connect to: `redis://[user:password@]host:port[/db]` or `rediss://` for TLS.
   * Replicas are transparent (point at the primary, or at a proxy in front of it). For Redis
   * Cluster give `clusterUrls` instead.
   * @default process.env.REDIS_URL, else 'redis://127.0.0.1:6379'
   */
  readonly url?: string;
  /**
   * Seed nodes of a Redis Cluster (`['redis://10.0.0.1:6379', ...]`); the rest of the cluster is
   * discovered from them. Every multi-key script in this package uses hash tags, so it touches one slot.
   * @default undefined (a single server at `url`)
   */
  readonly clusterUrls?: readonly string[];
  /**
   * The first segment of every key and channel this package writes, so services (or test runs)
   * sharing a server never collide: `<prefix>:cache:...`, `<prefix>:budget:{...}`.
   * @default 'weft'
   */
  readonly prefix?: string;
  /**
   * The longest any single Redis call may take before it rejects with a `TimeoutError`; further
   * bounded by the calling run's deadline. A store that times out degrades (see each store).
   * @default 250
   */
  readonly commandTimeoutMs?: number;
  /**
   * How long one connection attempt may take.
   * @default 1000
   */
  readonly connectTimeoutMs?: number;
  /**
   * The longest pause between reconnection attempts while Redis is unreachable (attempts back off
   * from 50 ms up to this). Keep it well under a second so the stores recover quickly when Redis returns.
   * @default 500
   */
  readonly reconnectMaxDelayMs?: number;
  /**
   * Receives connection errors (refused, reset, ...). They never reach a workflow: calls made
   * while Redis is down reject at once and each store degrades as documented.
   * @default ignore them
   */
  readonly onError?: (error: Error) => void;
}

const DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  clusterUrls: [],
  prefix: 'weft',
  commandTimeoutMs: 250,
  connectTimeoutMs: 1_000,
  reconnectMaxDelayMs: 500,
  onError: noop,
} as const satisfies Required<WeftRedisOptions>;

/** Whether a `clusterUrls` option is an array of redis:// or rediss:// URLs. */
function isRedisUrlList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((u) => typeof u === 'string' && /^rediss?:\/\//.test(u));
}

const KNOWN = ['url', 'clusterUrls', 'prefix', 'commandTimeoutMs', 'connectTimeoutMs', 'reconnectMaxDelayMs', 'onError'] as const;

/**
 * Per-call options of {@link WeftRedis.command} and {@link WeftRedis.script}.
 *
 * @example
 * ```ts
 * await redis.command(['GET', key], { timeoutMs: 50 });
 * ```
 */
export interface CommandOptions {
  /** A tighter bound than the client's `commandTimeoutMs` for this call. */
  readonly timeoutMs?: number;
  /** An absolute deadline (epoch ms) for this call. */
  readonly deadline?: number;
  /**
   * Whether the deadline of the run this call is made in (if any) bounds it too. Turn it off for
   * writes that must happen after a run timed out: a saga's compensation records, a dead letter.
   * @default true
   */
  readonly runDeadline?: boolean;
}

/**
 * A Lua script with its SHA-1, made by {@link defineScript}: run with {@link WeftRedis.script},
 * which tries `EVALSHA` and falls back to `EVAL` once when the server does not know it yet.
 *
 * @example
 * ```ts
 * const incr = defineScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
 * ```
 */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

/**
 * Defines a Lua script for {@link WeftRedis.script}.
 *
 * @example
 * ```ts
 * const getOrInit = defineScript("return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET')");
 * ```
 */
export function defineScript(source: string): RedisScript {
  return Object.freeze({ source, sha: createHash('sha1').update(source).digest('hex') });
}

type Client = RedisClientType | RedisClusterType;
type Arg = string | number;

/**
 * The Redis connection shared by every Weft store of a process: one command connection, plus one
 * subscriber connection opened on first use of pub/sub. Made by {@link createWeftRedis}; call
 * {@link WeftRedis.close} on shutdown so the process can exit.
 *
 * Failure behaviour: commands are never queued while the connection is down (they reject at
 * once), every call is bounded by `commandTimeoutMs` and the current run's deadline, a late reply
 * is dropped, and the client reconnects on its own (backoff capped by `reconnectMaxDelayMs`), so
 * the stores recover with no restart when Redis returns.
 *
 * @example
 * ```ts
 * const redis = createWeftRedis({ url: process.env.REDIS_URL, prefix: 'checkout' });
 * await redis.ready();                         // optional: fail fast at start-up
 * const budgets = new RedisBudgetStore(redis);
 * process.on('SIGTERM', () => void redis.close());
 * ```
 */
export class WeftRedis {
  /** The first segment of every key and channel. */
  readonly prefix: string;
  /** The longest a single call may take. */
  readonly commandTimeoutMs: number;
  /** @internal The command connection; used by the Keyv cache adapter. */
  readonly client: Client;

  private readonly cluster: boolean;
  private readonly onError: (error: Error) => void;
  private subscriber: Client | undefined;
  /** Settles once the subscriber's connect() does: a cluster can only subscribe after it. */
  private subscriberConnecting: Promise<unknown> = Promise.resolve();
  /** Whether a cluster client has its slot map (its 'connect' event). */
  private clusterUp = false;
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private readonly readyListeners = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private readonly connecting: Promise<unknown>;

  /** Use {@link createWeftRedis}. */
  constructor(options?: WeftRedisOptions) {
    const o = optionsObject('options', options);
    knownOptions('createWeftRedis', o, KNOWN);
    const url = o.url === undefined ? (process.env.REDIS_URL || DEFAULTS.url) : o.url;
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) fail('url', 'a redis:// or rediss:// URL', url);
    const clusterUrls = o.clusterUrls ?? DEFAULTS.clusterUrls;
    if (!isRedisUrlList(clusterUrls)) fail('clusterUrls', 'an array of redis:// URLs', clusterUrls);
    this.prefix = checkPrefix('prefix', o.prefix, DEFAULTS.prefix);
    this.commandTimeoutMs = number('commandTimeoutMs', o.commandTimeoutMs, DEFAULTS.commandTimeoutMs, { min: 1, max: MAX_TIMER });
    const connectTimeout = number('connectTimeoutMs', o.connectTimeoutMs, DEFAULTS.connectTimeoutMs, { min: 1, max: MAX_TIMER });
    const maxDelay = number('reconnectMaxDelayMs', o.reconnectMaxDelayMs, DEFAULTS.reconnectMaxDelayMs, { min: 1, max: 60_000 });
    this.onError = optionalFunction<(error: Error) => void>('onError', o.onError) ?? DEFAULTS.onError;
    const socket = {
      connectTimeout,
      // Never give up: back off from 50 ms to maxDelay, with a little jitter so a fleet does not reconnect in lockstep.
      reconnectStrategy: (retries: number) => Math.min(maxDelay, 50 * 2 ** Math.min(retries, 10)) + Math.floor(Math.random() * 20),
    };
    this.cluster = clusterUrls.length > 0;
    if (this.cluster) {
      this.client = createCluster({ rootNodes: clusterUrls.map((u) => ({ url: u })), defaults: { socket, disableOfflineQueue: true } });
    } else {
      this.client = createClient({ url, socket, disableOfflineQueue: true });
    }
    this.client.on('error', this.reportError);
    if (this.cluster) {
      // A cluster emits no 'ready': 'connect' comes once it knows its nodes and slots. Before that
      // (though already isOpen) it can route nothing: commands fail with a TypeError.
      this.client.on('connect', () => {
        this.clusterUp = true;
        this.announceReady();
      });
    } else {
      this.client.on('ready', this.announceReady);
    }
    // connect() keeps retrying under reconnectStrategy; its failure is reported through 'error'.
    this.connecting = this.client.connect().then(noop, noop);
  }

  /** Whether the command connection is up right now. */
  get isReady(): boolean {
    if (this.closing !== undefined) return false;
    return this.cluster ? this.clusterUp && (this.client as RedisClusterType).isOpen : (this.client as RedisClientType).isReady;
  }

  /** Whether {@link WeftRedis.close} has been called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Resolves when the connection is up, or rejects with a `TimeoutError` after `timeoutMs`. Not
   * required (stores work and degrade without it); use it to fail fast at start-up.
   *
   * @example
   * ```ts
   * await redis.ready(2_000);
   * ```
   */
  ready(timeoutMs = 5_000): Promise<void> {
    if (this.isReady) return Promise.resolve();
    if (this.closing !== undefined) return Promise.reject(closedError());
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new TimeoutError(timeoutMs, `Redis was not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onReady(() => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /**
   * Subscribes to the connection coming (back) up; returns the unsubscribe function. Stores use it
   * to resynchronise after an outage.
   *
   * @example
   * ```ts
   * const off = redis.onReady(() => console.log('redis is back'));
   * ```
   */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  /**
   * Sends one command, bounded by `commandTimeoutMs`, `options` and the current run's deadline.
   * Rejects at once while disconnected or after {@link WeftRedis.close}; never hangs.
   *
   * @example
   * ```ts
   * const value = await redis.command<string | null>(['GET', redis.key('x')]);
   * ```
   */
  command<T>(args: readonly Arg[], options?: CommandOptions): Promise<T> {
    return this.bounded(() => this.send<T>(args), options);
  }

  /**
   * Runs `call` (something that talks to Redis through this client, such as a Keyv adapter) under
   * the same bounds as {@link WeftRedis.command}: rejects at once after `close()`, and with a
   * `TimeoutError` when it takes longer than `commandTimeoutMs`, `options` or the run's deadline.
   *
   * @example
   * ```ts
   * const value = await redis.bounded(() => keyv.get(key));
   * ```
   */
  bounded<T>(call: () => Promise<T>, options?: CommandOptions): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(closedError());
    const ms = this.budget(options);
    if (ms <= 0) return Promise.reject(new TimeoutError(0, 'No time left for a Redis call before the deadline'));
    let p: Promise<T>;
    try {
      p = call();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return bound(p, ms);
  }

  /**
   * Runs a Lua script with `EVALSHA`, falling back to `EVAL` when the server does not have it
   * cached (after a restart or failover). Bounded like {@link WeftRedis.command}.
   *
   * @example
   * ```ts
   * const n = await redis.script<number>(incr, [redis.key('counter')], [1]);
   * ```
   */
  script<T>(script: RedisScript, keys: readonly string[], args: readonly Arg[], options?: CommandOptions): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    return this.bounded(
      () =>
        this.send<T>(['EVALSHA', script.sha, ...tail], keys[0]).catch((error: unknown) => {
          if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return this.send<T>(['EVAL', script.source, ...tail], keys[0]);
          throw error;
        }),
      options,
    );
  }

  /**
   * Listens to a pub/sub channel on the subscriber connection (opened on first use); returns the
   * unsubscribe function. Subscriptions survive reconnections. Delivery is at most once: use pub/sub
   * to wake up, and keep the truth in keys.
   *
   * @example
   * ```ts
   * const off = redis.subscribe(redis.key('events'), (message) => console.log(message));
   * ```
   */
  subscribe(channel: string, listener: (message: string) => void): () => void {
    if (this.closing !== undefined) throw closedError();
    let set = this.channels.get(channel);
    if (set === undefined) {
      set = new Set();
      this.channels.set(channel, set);
      this.listen(channel);
    }
    set.add(listener);
    return () => {
      const s = this.channels.get(channel);
      if (s === undefined || !s.delete(listener) || s.size > 0) return;
      this.channels.delete(channel);
      const sub = this.subscriber;
      if (sub !== undefined && this.closing === undefined) sub.unsubscribe(channel).then(noop, noop);
    };
  }

  /**
   * A key under this client's prefix: `key('a', 'b')` is `<prefix>:a:b`.
   *
   * @example
   * ```ts
   * redis.key('budget', '{chat}'); // 'weft:budget:{chat}'
   * ```
   */
  key(...parts: readonly string[]): string {
    return `${this.prefix}:${parts.join(':')}`;
  }

  /**
   * Closes both connections: waits briefly for replies in flight, then drops the sockets. Calls
   * after it reject. Idempotent.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void redis.close().then(() => process.exit(0)));
   * ```
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.readyListeners.clear();
    this.channels.clear();
    const clients = [this.client, this.subscriber].filter((c): c is Client => c !== undefined);
    const ms = this.commandTimeoutMs;
    this.closing = Promise.all(clients.map((c) => closeOne(c, ms)))
      // connect() settles once the client is closed or destroyed; wait for it so nothing is left running.
      .then(() => this.connecting)
      .then(noop);
    return this.closing;
  }

  private budget(options: CommandOptions | undefined): number {
    let ms = this.commandTimeoutMs;
    if (options?.timeoutMs !== undefined) ms = Math.min(ms, options.timeoutMs);
    const now = Date.now();
    if (options?.deadline !== undefined) ms = Math.min(ms, options.deadline - now);
    if (options?.runDeadline !== false) {
      const run = currentContext();
      if (run?.deadline !== undefined) ms = Math.min(ms, run.deadline - now);
    }
    return ms;
  }

  private send<T>(args: readonly Arg[], firstKey?: string): Promise<T> {
    const list = args.map(String);
    if (this.cluster) return (this.client as RedisClusterType).sendCommand<T>(firstKey ?? list[1], false, list);
    return (this.client as RedisClientType).sendCommand<T>(list);
  }

  private listen(channel: string): void {
    let sub = this.subscriber;
    if (sub === undefined) {
      // The subscriber keeps node-redis's offline queue: a SUBSCRIBE made while down is sent on connect.
      sub = this.subscriber = (this.client as RedisClientType).duplicate({ disableOfflineQueue: false }) as unknown as Client;
      sub.on('error', this.reportError);
      this.subscriberConnecting = sub.connect().then(noop, noop);
    }
    const dispatch = (message: string): void => {
      const set = this.channels.get(channel);
      if (set === undefined) return;
      for (const l of set) {
        try {
          l(message);
        } catch (error) {
          this.reportError(error);
        }
      }
    };
    if (!this.cluster) {
      sub.subscribe(channel, dispatch).then(noop, this.reportError);
      return;
    }
    // A cluster picks the node to subscribe on from its slot map, which it has only once connected
    // (it has no offline queue for SUBSCRIBE); subscribe then, unless this channel was dropped meanwhile.
    const set = this.channels.get(channel);
    const cluster = sub;
    this.subscriberConnecting
      .then(() => (this.closing === undefined && this.channels.get(channel) === set ? cluster.subscribe(channel, dispatch) : undefined))
      .then(noop, this.reportError);
  }

  private readonly reportError = (error: unknown): void => {
    try {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // a reporting hook never breaks the client
    }
  };

  private readonly announceReady = (): void => {
    for (const l of [...this.readyListeners]) {
      try {
        l();
      } catch (error) {
        this.reportError(error);
      }
    }
  };
}

/**
 * Connects to Redis (or Redis Cluster) for the Weft stores of this process. Returns at once; the
 * connection comes up in the background and reconnects by itself. Close it on shutdown.
 *
 * @example
 * ```ts
 * import { createWeftRedis, RedisBudgetStore } from '@weft/redis';
 * const redis = createWeftRedis({ url: process.env.REDIS_URL, prefix: 'checkout' });
 * const store = new RedisBudgetStore(redis);
 * // ... on shutdown:
 * await redis.close();
 * ```
 */
export function createWeftRedis(options?: WeftRedisOptions): WeftRedis {
  return new WeftRedis(options);
}

/** Closes gracefully when connected (waiting at most `ms` for replies in flight), else drops the socket at once. */
function closeOne(c: Client, ms: number): Promise<void> {
  const destroy = (): void => {
    try {
      c.destroy();
    } catch {
      // already closed
    }
  };
  const ready = 'isReady' in c ? (c).isReady : c.isOpen;
  if (!ready) {
    destroy();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      destroy();
      resolve();
    }, ms);
    let closing: Promise<void>;
    try {
      closing = c.close();
    } catch {
      closing = Promise.resolve();
    }
    // Neither handler throws: the chain always ends in resolve().
    void closing.then(noop, destroy).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function closedError(): Error {
  return Object.assign(new Error('The Weft Redis client is closed'), { code: 'REDIS_CLOSED' });
}

/** Bounds a reply by `ms`; a late reply or rejection is dropped, and the timer never outlives the call. */
function bound<T>(p: Promise<T>, ms: number): Promise<T> {
  return awaitStore(p, { ms, what: 'Redis' }).then((answer) => {
    if (answer.ok) return answer.value;
    throw answer.error;
  });
}
