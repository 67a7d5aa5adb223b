import { jsonSerializer, type SagaEntry, type SagaLog, type SagaRecord } from '@weft/core';
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
   * How long a finished execution's log is kept for inspection with `get()`; 0 deletes it at once.
   * @default 0
   */
  readonly retainFinishedMs?: number;
}

/** Saga records are written after a run timed out too (compensation), so the run's deadline does not bound them. */
const OUTLIVE_RUN = { runDeadline: false } as const;

const DEFAULTS = { ttlMs: 604_800_000, retainFinishedMs: 0 } as const satisfies Required<RedisSagaLogOptions>;

// KEYS: open set, log list, claim. ARGV: sagaId, type, entry, at, ttl, retainFinished.
const APPEND = defineScript(`
local exists = redis.call('EXISTS', KEYS[2]) == 1
local open = redis.call('ZSCORE', KEYS[1], ARGV[1])
if ARGV[2] == 'started' then
  if exists then return redis.error_reply('WEFT_SAGA_EXISTS execution already started') end
else
  if not exists then return redis.error_reply('WEFT_SAGA_UNKNOWN no such execution') end
  if not open then return redis.error_reply('WEFT_SAGA_FINISHED execution already finished') end
end
redis.call('RPUSH', KEYS[2], ARGV[3])
if ARGV[2] == 'finished' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[3])
  if tonumber(ARGV[6]) > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[6]) else redis.call('DEL', KEYS[2]) end
else
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1
`);

// KEYS: open set, claim. ARGV: sagaId, owner, leaseMs.
const CLAIM = defineScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local current = redis.call('GET', KEYS[2])
if current and current ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`);

/**
 * A durable {@link SagaLog} in Redis, so that `recoverSagas()` (from `@weft/core`) run at start-up
 * in any process finds the executions a crashed process left half-done and compensates them. The
 * claim is atomic with a lease, so concurrent recoverers (and a live saga compensating itself)
 * compensate each execution once; compensations already recorded are not run again.
 *
 * **Failure.** When Redis is down or slow, `append` rejects: a saga cannot record its start, so it
 * refuses to start (its run rejects before any step runs). A saga already running whose later
 * appends fail compensates in process as usual; a recoverer that cannot claim leaves the execution
 * for the next attempt. Entries are encoded with `jsonSerializer` (Date, Map, Set, bigint survive).
 *
 * Keys, one hash tag per saga name: `<prefix>:saga:{saga:<name>}:open` (a sorted set of
 * unfinished executions), `...:log:<id>` (a list of entries) and `...:claim:<id>`; all expire.
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

  append(saga: string, sagaId: string, entry: SagaEntry): Promise<void> {
    let text: string;
    try {
      text = jsonSerializer.serialize(entry);
    } catch (error) {
      return Promise.reject(error);
    }
    const k = this.keys(saga, sagaId);
    return this.redis.script(APPEND, [k.open, k.log, k.claim], [sagaId, entry.type, text, entry.at, this.ttlMs, this.retainFinishedMs], OUTLIVE_RUN).then(() => undefined);
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

  claim(saga: string, sagaId: string, owner: string, leaseMs: number): Promise<boolean> {
    if (typeof owner !== 'string' || owner === '') return Promise.reject(new TypeError(`Expected \`owner\` to be a non-empty string, got ${JSON.stringify(owner)}`));
    const k = this.keys(saga, sagaId);
    return this.redis.script<number>(CLAIM, [k.open, k.claim], [sagaId, owner, Math.max(1, Math.ceil(leaseMs))], OUTLIVE_RUN).then((r) => r === 1);
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
    const raw = await this.redis.command<string[]>(['LRANGE', this.keys(saga, sagaId).log, 0, -1]);
    if (raw.length === 0) return undefined;
    return { saga, sagaId, entries: raw.map((t) => jsonSerializer.deserialize(t) as SagaEntry) };
  }

  private keys(saga: string, sagaId: string): { open: string; log: string; claim: string } {
    const t = tag('saga', saga);
    const id = keyPart(sagaId);
    return { open: this.redis.key('saga', t, 'open'), log: this.redis.key('saga', t, 'log', id), claim: this.redis.key('saga', t, 'claim', id) };
  }
}
