import { errorFromJson, errorToJson, type ErrorJson } from '@weft/core/stores';
import { createHash, randomUUID } from 'node:crypto';
import { definePrimitive, jsonSerializer, Primitive, TimeoutError, toError, type CacheSerializer, type RunContext } from '@weft/core';
import { fail, knownOptions, number, oneOf, optionalFunction, optionsObject } from '@weft/core/options';
import { MAX_TIMER, noop } from '../internal/timers.js';
import { defineScript, type WeftRedis } from '../weft-redis.js';

/**
 * Options for {@link sharedSingleFlight}.
 *
 * @example
 * ```ts
 * const options: SharedSingleFlightOptions<string> = { key: (id) => `user:${id}`, waitTimeoutMs: 2_000 };
 * ```
 */
export interface SharedSingleFlightOptions<I> {
  /** Identifies the work: calls with the same key, in any process, run once. Hashed before it reaches Redis. */
  readonly key: (input: I, ctx: RunContext) => string;
  /**
   * How long the lock holds without renewal. The holder renews it every `lockTtlMs / 2` while it
   * computes, so a crashed holder blocks the others for at most this long.
   * @default 5_000
   */
  readonly lockTtlMs?: number;
  /**
   * The longest a process waits for another to finish the same work (also bounded by the run's
   * deadline and ended at once by an abort). What happens then is `onWaitTimeout`.
   * @default 10_000
   */
  readonly waitTimeoutMs?: number;
  /**
   * `run`: stop waiting and do the work here; `throw`: reject with `TimeoutError`.
   * @default 'run'
   */
  readonly onWaitTimeout?: 'run' | 'throw';
  /**
   * How long the outcome stays in Redis for processes still waiting or arriving late.
   * @default 5_000
   */
  readonly resultTtlMs?: number;
  /**
   * How often a waiting process checks again if no notification came (pub/sub is at most once).
   * @default 100
   */
  readonly pollMs?: number;
  /**
   * Encodes the outcome shared through Redis.
   * @default jsonSerializer from @weft/core
   */
  readonly serializer?: CacheSerializer;
}

const DEFAULTS = {
  lockTtlMs: 5_000,
  waitTimeoutMs: 10_000,
  onWaitTimeout: 'run',
  resultTtlMs: 5_000,
  pollMs: 100,
  serializer: jsonSerializer,
} as const satisfies Required<Omit<SharedSingleFlightOptions<unknown>, 'key'>>;

const KNOWN = ['key', 'lockTtlMs', 'waitTimeoutMs', 'onWaitTimeout', 'resultTtlMs', 'pollMs', 'serializer'] as const;

/** Reads a published outcome, or takes the lock (SET NX PX), or says someone else holds it. */
const ACQUIRE = defineScript(`
local r = redis.call('GET', KEYS[2])
if r then return {'result', r} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'acquired'} end
return {'held'}
`);

/** Publishes the outcome and releases the lock in one step, so nobody sees neither. */
const COMPLETE = defineScript(`
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`);

const RENEW = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

interface Shared {
  v?: unknown;
  e?: ErrorJson;
}

/** One pub/sub subscription per client, fanned out to the local waiters by work ID. */
class Notifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscribed = false;
  readonly channel: string;

  constructor(private readonly redis: WeftRedis) {
    this.channel = redis.key('sf');
  }

  /** Calls `wake` when `id` is published; returns the unsubscribe function. */
  on(id: string, wake: () => void): () => void {
    if (!this.subscribed) {
      this.subscribed = true;
      try {
        this.redis.subscribe(this.channel, (message) => {
          const set = this.waiters.get(message);
          if (set !== undefined) for (const w of [...set]) w();
        });
      } catch {
        // closed: waiters fall back to polling until their own calls fail
      }
    }
    let set = this.waiters.get(id);
    if (set === undefined) this.waiters.set(id, (set = new Set()));
    set.add(wake);
    return () => {
      const s = this.waiters.get(id);
      if (s !== undefined && s.delete(wake) && s.size === 0) this.waiters.delete(id);
    };
  }
}

const notifiers = new WeakMap<WeftRedis, Notifier>();

/**
 * Runs `primitive` once per key across every process sharing `redis`: the first caller takes a
 * short lock (`SET NX PX`, renewed while it works) and computes; the others wait for its outcome
 * (woken by pub/sub, with a poll as a safety net) and get the same value or error, or time out
 * after `waitTimeoutMs` (then run it themselves, or throw, per `onWaitTimeout`). A holder that
 * crashes blocks the others for at most `lockTtlMs`.
 *
 * Inside one process, put it under `cache()`, which already coalesces identical calls; that is
 * what {@link redisCache} does. When Redis is down or slow, every call simply runs (no lock).
 * Aborted work publishes nothing: the lock is released and a waiter takes over.
 *
 * @example
 * ```ts
 * const users = new Cache<string, User>({ namespace: 'users', store: new RedisCacheStore(redis) });
 * const getUser = cache(sharedSingleFlight(fetchUser, redis, { key: (id, ctx) => users.keyFor(id, ctx) }), users);
 * ```
 */
export function sharedSingleFlight<I, O>(primitive: Primitive<I, O>, redis: WeftRedis, options: SharedSingleFlightOptions<I>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  if (typeof options !== 'object' || options === null) fail('options', 'an options object with `key`', options);
  const o = optionsObject('options', options);
  knownOptions('sharedSingleFlight', o, KNOWN);
  const keyFn = optionalFunction<(input: I, ctx: RunContext) => string>('key', o.key) ?? fail('key', 'a function of (input, ctx) returning a string', o.key);
  const lockTtlMs = number('lockTtlMs', o.lockTtlMs, DEFAULTS.lockTtlMs, { min: 10, max: MAX_TIMER, integer: true });
  const waitTimeoutMs = number('waitTimeoutMs', o.waitTimeoutMs, DEFAULTS.waitTimeoutMs, { min: 0, max: MAX_TIMER });
  const onWaitTimeout = oneOf('onWaitTimeout', o.onWaitTimeout, ['run', 'throw'], DEFAULTS.onWaitTimeout);
  const resultTtlMs = number('resultTtlMs', o.resultTtlMs, DEFAULTS.resultTtlMs, { min: 1, max: MAX_TIMER, integer: true });
  const pollMs = number('pollMs', o.pollMs, DEFAULTS.pollMs, { min: 1, max: MAX_TIMER });
  const serializer = (o.serializer as CacheSerializer | undefined) ?? DEFAULTS.serializer;
  if (typeof serializer !== 'object' || serializer === null || typeof serializer.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    fail('serializer', 'an object with serialize and deserialize functions', o.serializer);
  }
  let notifier = notifiers.get(redis);
  if (notifier === undefined) notifiers.set(redis, (notifier = new Notifier(redis)));
  const n = notifier;
  const inner = primitive.exec;

  /** The shared outcome as this call's: the value, or a rebuilt error (name, message, code). */
  const adopt = (shared: Shared): O => {
    if (shared.e !== undefined) throw errorFromJson(shared.e);
    return shared.v as O;
  };

  return definePrimitive(primitive.name, 'singleflight', (input, ctx) => {
    let id: string;
    try {
      id = createHash('sha256').update(keyFn(input, ctx)).digest('hex');
    } catch (error) {
      return Promise.reject(toError(error));
    }
    const lock = redis.key('sf', `{sf:${id}}`, 'lock');
    const result = redis.key('sf', `{sf:${id}}`, 'result');
    const token = randomUUID();
    const waitUntil = Math.min(Date.now() + waitTimeoutMs, ctx.deadline ?? Infinity);

    const compute = (): Promise<O> => {
      // Renew the lock while the work runs, so a long computation is not duplicated.
      const renew = setInterval(() => void redis.script(RENEW, [lock], [token, lockTtlMs]).catch(noop), Math.max(5, Math.floor(lockTtlMs / 2)));
      const finish = (payload: string): void => {
        clearInterval(renew);
        redis.script(COMPLETE, [lock, result], [token, payload, resultTtlMs, n.channel, id]).catch(noop);
      };
      let p: Promise<O>;
      try {
        p = inner(input, ctx);
      } catch (error) {
        p = Promise.reject(toError(error));
      }
      return p.then(
        (value) => {
          let payload = '';
          try {
            payload = serializer.serialize({ v: value } satisfies Shared);
          } catch {
            // Not shareable: release the lock without an outcome; a waiter computes its own.
          }
          finish(payload);
          return value;
        },
        (thrown: unknown) => {
          const error = toError(thrown);
          let payload = '';
          if (!ctx.aborted) {
            try {
              payload = serializer.serialize({ e: errorToJson(error) } satisfies Shared);
            } catch {
              payload = '';
            }
          }
          finish(payload);
          throw error;
        },
      );
    };

    /** Waits for a notification, a poll tick, the wait's end or an abort, whichever comes first. */
    const pause = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const ms = Math.min(pollMs, Math.max(0, waitUntil - Date.now()));
        let done = false;
        const signal = ctx.signal;
        const settle = (error?: unknown): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          off();
          signal.removeEventListener('abort', onAbort);
          if (error === undefined) resolve();
          else reject(toError(error));
        };
        const onAbort = (): void => settle(signal.reason ?? new Error('Aborted'));
        const timer = setTimeout(() => settle(), ms);
        const off = n.on(id, () => settle());
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort);
      });

    const attempt = (): Promise<O> => {
      if (ctx.aborted) return Promise.reject(toError(ctx.signal.reason));
      return redis.script<[string, string?]>(ACQUIRE, [lock, result], [token, lockTtlMs]).then(
        (reply) => {
          if (reply[0] === 'result') {
            let shared: Shared;
            try {
              shared = serializer.deserialize(reply[1] ?? '') as Shared;
              if (typeof shared !== 'object' || shared === null) throw new TypeError('Malformed shared outcome');
            } catch {
              return computeUnlocked();
            }
            return adopt(shared);
          }
          if (reply[0] === 'acquired') return compute();
          if (Date.now() >= waitUntil) {
            if (onWaitTimeout === 'throw') throw new TimeoutError(waitTimeoutMs, `Another instance did not finish ${primitive.name} within ${waitTimeoutMs} ms`);
            return compute();
          }
          return pause().then(attempt);
        },
        // Redis is down or slow: do the work here, without the lock.
        () => computeUnlocked(),
      );
    };

    const computeUnlocked = (): Promise<O> => {
      try {
        return inner(input, ctx);
      } catch (error) {
        return Promise.reject(toError(error));
      }
    };

    return attempt();
  });
}
