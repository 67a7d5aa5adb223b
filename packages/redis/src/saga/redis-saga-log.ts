import { jsonSerializer, SagaConflictError, type SagaEntry, type SagaLease, type SagaLog, type SagaRecord, type SagaStartedEntry } from '@weft/core';
import { knownOptions, number, optionsObject } from '@weft/core/options';
import { keyPart, tag } from '../internal/keys.js';
import { defineScript, type WeftRedis } from '../weft-redis.js';

/**
 * Options for {@link RedisSagaLog}.
 *
 * @example
 * ```ts
 * const options: RedisSagaLogOptions = { ttlMs: 3 * 86_400_000, retainFinishedMs: 3_600_000 };
 * ```
 */
export interface RedisSagaLogOptions {
  /**
   * How long an unfinished execution's log is kept after its last entry. Run `recoverSagas()`
   * well within it (at every start-up): an execution left longer is forgotten.
   * @default 604_800_000 (a week)
   */
  readonly ttlMs?: number;
  /**
   * How long a finished execution's log is kept: starting the same execution ID within it replays
   * the recorded outcome instead of running again, and `get()` can inspect it. 0 deletes it at
   * once (a repeated ID then runs again).
   * @default 86_400_000 (a day)
   */
  readonly retainFinishedMs?: number;
}

/** Saga records are written after a run timed out too (compensation), so the run's deadline does not bound them. */
const OUTLIVE_RUN = { runDeadline: false } as const;

const DEFAULTS = { ttlMs: 604_800_000, retainFinishedMs: 86_400_000 } as const satisfies Required<RedisSagaLogOptions>;

// KEYS: open set, log list, lease. ARGV: sagaId, entry, at, ttl, owner, leaseMs.
// Returns the existing entries when the ID was used, or 1 when it started (lease taken).
const BEGIN = defineScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.call('LRANGE', KEYS[2], 0, -1) end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[6])
return 1
`);

// KEYS: open set, log list, lease. ARGV: sagaId, type, entry, at, ttl, retainFinished, owner, leaseMs.
const APPEND = defineScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return redis.error_reply('WEFT_SAGA_UNKNOWN no such execution') end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return redis.error_reply('WEFT_SAGA_LEASE_LOST execution finished by another owner') end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[7] then return redis.error_reply('WEFT_SAGA_LEASE_LOST lease held by another owner') end
redis.call('RPUSH', KEYS[2], ARGV[3])
if ARGV[2] == 'finished' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[3])
  if tonumber(ARGV[6]) > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[6]) else redis.call('DEL', KEYS[2]) end
else
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('SET', KEYS[3], ARGV[7], 'PX', ARGV[8])
end
return 1
`);

// KEYS: open set, lease. ARGV: sagaId, owner, leaseMs.
const CLAIM = defineScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`);

/**
 * A durable {@link SagaLog} in Redis, so that an execution whose process died is taken over by any
 * live instance: resumed by a job engine re-running it, or compensated by `superviseSagas()` /
 * `recoverSagas()` (from `@weft/core`). Starting, appending and claiming are Lua scripts, atomic
 * with the lease: the lease is taken with the `started` entry, renewed by every write, and every
 * write is fenced by it, so a live execution is never taken over and each is compensated once.
 * Finished executions are kept `retainFinishedMs` so a repeated execution ID replays its outcome.
 *
 * **Failure.** When Redis is down or slow, writes reject: a saga cannot record its start, so it
 * refuses to start (its run rejects before any step runs); a saga whose intent cannot be written
 * does not call the step and compensates what it did. A recoverer that cannot claim leaves the
 * execution for the next scan. Entries are encoded with `jsonSerializer` (Date, Map, Set, bigint
 * survive). Use the saga's `persist` option to keep secrets out: everything logged rests in Redis.
 *
 * Keys, one hash tag per saga name (so the scripts work on Redis Cluster):
 * `<prefix>:saga:{saga:<name>}:open` (a sorted set of unfinished executions), `...:log:<id>`
 * (a list of entries) and `...:claim:<id>` (the lease); all expire.
 *
 * @example
 * ```ts
 * const log = new RedisSagaLog(redis);
 * const bookTrip = saga([...steps], { name: 'book_trip', log });
 * for (const r of await recoverSagas(bookTrip)) if (r.outcome !== 'compensated') alert(r);
 * ```
 */
export class RedisSagaLog implements SagaLog {
  private readonly ttlMs: number;
  private readonly retainFinishedMs: number;

  constructor(
    private readonly redis: WeftRedis,
    options?: RedisSagaLogOptions,
  ) {
    const o = optionsObject('options', options);
    knownOptions('RedisSagaLog', o, ['ttlMs', 'retainFinishedMs']);
    this.ttlMs = number('ttlMs', o.ttlMs, DEFAULTS.ttlMs, { min: 1_000, integer: true });
    this.retainFinishedMs = number('retainFinishedMs', o.retainFinishedMs, DEFAULTS.retainFinishedMs, { min: 0, integer: true });
  }

  async begin(saga: string, sagaId: string, entry: SagaStartedEntry, lease: SagaLease): Promise<SagaRecord | undefined> {
    const text = jsonSerializer.serialize(entry);
    const k = this.keys(saga, sagaId);
    const r = await this.redis.script<number | string[]>(BEGIN, [k.open, k.log, k.claim], [sagaId, text, entry.at, this.ttlMs, lease.owner, leaseMsOf(lease)], OUTLIVE_RUN);
    if (r === 1) return undefined;
    return { saga, sagaId, entries: (r as string[]).map((t) => jsonSerializer.deserialize(t) as SagaEntry) };
  }

  async append(saga: string, sagaId: string, entry: SagaEntry, lease: SagaLease): Promise<void> {
    const text = jsonSerializer.serialize(entry);
    const k = this.keys(saga, sagaId);
    try {
      await this.redis.script(APPEND, [k.open, k.log, k.claim], [sagaId, entry.type, text, entry.at, this.ttlMs, this.retainFinishedMs, lease.owner, leaseMsOf(lease)], OUTLIVE_RUN);
    } catch (error) {
      if (error instanceof Error && error.message.includes('WEFT_SAGA_LEASE_LOST')) throw new SagaConflictError(saga, sagaId, 'lease_lost', error);
      throw error;
    }
  }

  async unfinished(saga: string): Promise<ReadonlyArray<SagaRecord>> {
    const open = this.keys(saga, '').open;
    const ids = await this.redis.command<string[]>(['ZRANGE', open, 0, -1], OUTLIVE_RUN);
    const logs = await Promise.all(ids.map((id) => this.redis.command<string[]>(['LRANGE', this.keys(saga, id).log, 0, -1], OUTLIVE_RUN)));
    const out: SagaRecord[] = [];
    const gone: string[] = [];
    ids.forEach((sagaId, i) => {
      const raw = logs[i] ?? [];
      if (raw.length === 0) gone.push(sagaId);
      else out.push({ saga, sagaId, entries: raw.map((t) => jsonSerializer.deserialize(t) as SagaEntry) });
    });
    // Executions whose log expired cannot be recovered: drop them from the index.
    if (gone.length > 0) await this.redis.command(['ZREM', open, ...gone], OUTLIVE_RUN).catch(() => undefined);
    return out;
  }

  claim(saga: string, sagaId: string, lease: SagaLease): Promise<boolean> {
    if (typeof lease?.owner !== 'string' || lease.owner === '') return Promise.reject(new TypeError(`Expected \`lease.owner\` to be a non-empty string, got ${JSON.stringify(lease?.owner)}`));
    const k = this.keys(saga, sagaId);
    return this.redis.script<number>(CLAIM, [k.open, k.claim], [sagaId, lease.owner, leaseMsOf(lease)], OUTLIVE_RUN).then((r) => r === 1);
  }

  /**
   * One execution's log: unfinished, or finished and still retained (`retainFinishedMs`).
   *
   * @example
   * ```ts
   * const record = await log.get('book_trip', orderId);
   * ```
   */
  async get(saga: string, sagaId: string): Promise<SagaRecord | undefined> {
    const raw = await this.redis.command<string[]>(['LRANGE', this.keys(saga, sagaId).log, 0, -1], OUTLIVE_RUN);
    if (raw.length === 0) return undefined;
    return { saga, sagaId, entries: raw.map((t) => jsonSerializer.deserialize(t) as SagaEntry) };
  }

  private keys(saga: string, sagaId: string): { open: string; log: string; claim: string } {
    const t = tag('saga', saga);
    const id = keyPart(sagaId);
    return { open: this.redis.key('saga', t, 'open'), log: this.redis.key('saga', t, 'log', id), claim: this.redis.key('saga', t, 'claim', id) };
  }
}

function leaseMsOf(lease: SagaLease): number {
  return Math.max(1, Math.ceil(lease.leaseMs));
}
