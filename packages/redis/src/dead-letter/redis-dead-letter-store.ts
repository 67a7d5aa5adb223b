import { randomUUID } from 'node:crypto';
import { jsonSerializer, type Primitive, type RunOptions } from '@weft/core';
import { knownOptions, number, optionsObject } from '@weft/core/options';
import { keyPart, tag } from '../internal/keys.js';
import { defineScript, type WeftRedis } from '../weft-redis.js';
import { MAX_TIMER } from '../internal/timers.js';
import type { DeadLetterCapture, DeadLetterEntry, DeadLetterStore } from './dead-letter-store.js';

/**
 * Options for {@link RedisDeadLetterStore}.
 *
 * @example
 * ```ts
 * const options: RedisDeadLetterStoreOptions = { replayLockMs: 300_000 };
 * ```
 */
export interface RedisDeadLetterStoreOptions {
  /**
   * How long a replay holds its lock. A replay that runs longer may be started again by someone else.
   * @default 60_000
   */
  readonly replayLockMs?: number;
}

const DEFAULTS = { replayLockMs: 60_000 } as const satisfies Required<RedisDeadLetterStoreOptions>;

// KEYS: index, entry. ARGV: id, json, expiresAt, ttlMs, now.
const ADD = defineScript(`
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
`);

// KEYS: index, entry. ARGV: id.
const REMOVE = defineScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
`);

// KEYS: entry, lock. ARGV: lock token, lock ms. Takes the replay lock of a live entry.
const LOCK = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'ok' end
return 'busy'
`);

// KEYS: entry, lock. ARGV: token, new json. Records a failed replay and releases the lock.
const FAILED = defineScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
`);

/**
 * A {@link DeadLetterStore} in Redis. Entries are keys with their own TTL, indexed per queue by a
 * sorted set on expiry time (expired members are pruned as entries are added and listed). A
 * replay takes a short lock, so two operators replaying one entry run it once.
 *
 * Entries keep the failed call's input as it was (encoded with `jsonSerializer`): treat the
 * dead-letter keys like the data they hold. Keys: `<prefix>:dlq:{dlq:<queue>}:index`,
 * `...:entry:<id>` and `...:lock:<id>`.
 *
 * @example
 * ```ts
 * const dlq = new RedisDeadLetterStore(redis);
 * const charge = deadLetter(chargeCard, dlq, { name: 'charge', ttlMs: 7 * 86_400_000 });
 * ```
 */
export class RedisDeadLetterStore implements DeadLetterStore {
  private readonly replayLockMs: number;

  constructor(
    private readonly redis: WeftRedis,
    options?: RedisDeadLetterStoreOptions,
  ) {
    const o = optionsObject('options', options);
    knownOptions('RedisDeadLetterStore', o, ['replayLockMs']);
    this.replayLockMs = number('replayLockMs', o.replayLockMs, DEFAULTS.replayLockMs, { min: 1, max: MAX_TIMER, integer: true });
  }

  add<I>(capture: DeadLetterCapture<I>, ttlMs: number): Promise<DeadLetterEntry<I>> {
    const now = Date.now();
    const entry: DeadLetterEntry<I> = { ...capture, id: `${now.toString(36)}-${randomUUID().slice(0, 8)}`, expiresAt: now + ttlMs, replays: 0 };
    let text: string;
    try {
      text = jsonSerializer.serialize(entry);
    } catch (error) {
      return Promise.reject(error);
    }
    const k = this.keys(capture.queue, entry.id);
    return this.redis.script(ADD, [k.index, k.entry], [entry.id, text, entry.expiresAt, Math.max(1, Math.ceil(ttlMs)), now], { runDeadline: false }).then(() => entry);
  }

  async list(queue: string, options?: { readonly limit?: number }): Promise<ReadonlyArray<DeadLetterEntry>> {
    const limit = options?.limit ?? 100;
    const index = this.keys(queue, '').index;
    const ids = await this.redis.command<string[]>(['ZRANGE', index, '+inf', String(Date.now()), 'BYSCORE', 'REV', 'LIMIT', 0, limit]);
    if (ids.length === 0) return [];
    const texts = await this.redis.command<Array<string | null>>(['MGET', ...ids.map((id) => this.keys(queue, id).entry)]);
    const out: DeadLetterEntry[] = [];
    for (const t of texts) if (t !== null) out.push(jsonSerializer.deserialize(t) as DeadLetterEntry);
    // Newest failure first (the index orders by expiry, which differs when TTLs differ).
    return out.sort((a, b) => b.failedAt - a.failedAt);
  }

  async get(queue: string, id: string): Promise<DeadLetterEntry | undefined> {
    const t = await this.redis.command<string | null>(['GET', this.keys(queue, id).entry]);
    return t === null ? undefined : (jsonSerializer.deserialize(t) as DeadLetterEntry);
  }

  remove(queue: string, id: string): Promise<boolean> {
    const k = this.keys(queue, id);
    return this.redis.script<number>(REMOVE, [k.index, k.entry], [id]).then((n) => n === 1);
  }

  async replay<I, O>(entry: DeadLetterEntry<I>, primitive: Primitive<I, O>, options?: RunOptions): Promise<O> {
    const k = this.keys(entry.queue, entry.id);
    const token = randomUUID();
    const locked = await this.redis.script<string>(LOCK, [k.entry, k.lock], [token, this.replayLockMs]);
    if (locked !== 'ok') {
      throw Object.assign(new Error(locked === 'gone' ? `Dead letter ${entry.id} of ${entry.queue} is gone (replayed, removed or expired)` : `Dead letter ${entry.id} of ${entry.queue} is being replayed elsewhere`), {
        code: locked === 'gone' ? 'DEAD_LETTER_GONE' : 'DEAD_LETTER_BUSY',
      });
    }
    let output: O;
    try {
      output = await primitive.run(entry.input, { correlationId: entry.correlationId, workflow: entry.workflow, ...options });
    } catch (error) {
      const current = (await this.get(entry.queue, entry.id).catch(() => undefined)) ?? entry;
      const updated = { ...current, replays: current.replays + 1 };
      await this.redis.script(FAILED, [k.entry, k.lock], [token, jsonSerializer.serialize(updated)]).catch(() => undefined);
      throw error;
    }
    // Removing the entry also ends the lock's purpose; the lock key expires on its own.
    await this.remove(entry.queue, entry.id).catch(() => undefined);
    await this.redis.command(['DEL', k.lock]).catch(() => undefined);
    return output;
  }

  private keys(queue: string, id: string): { index: string; entry: string; lock: string } {
    const t = tag('dlq', queue);
    const i = keyPart(id);
    return { index: this.redis.key('dlq', t, 'index'), entry: this.redis.key('dlq', t, 'entry', i), lock: this.redis.key('dlq', t, 'lock', i) };
  }
}
