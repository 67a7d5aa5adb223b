import { currentClock } from '../clock/clock.js';
import { SagaConflictError } from '../errors/saga-conflict-error.js';
import type { ErrorJson } from '../internal/error-json.js';
import { fail, optionalNumber, optionsObject } from '../internal/validate-options.js';

/** How a saga ended. */
export type SagaOutcome = 'completed' | 'compensated' | 'compensation_failed';

/**
 * One entry of a saga's log, appended as the saga makes progress. Durable logs serialize entries,
 * so what a saga persists (its input and its steps' outputs, after the `persist` mapper) must be
 * JSON-serializable when one is used.
 *
 * - `started`: the execution began; `owner` held its lease.
 * - `intent`: step `index` is about to be called with idempotency key `key` (written before the call).
 * - `step`: step `index` returned `output`.
 * - `takeover`: `owner` took the execution over after the lease of the previous owner lapsed.
 * - `compensating`: the forward phase ended with `error`; from here the execution is undone.
 * - `compensated` / `compensation_failed`: one compensation ran; `outcome` is what it undid
 *   (`unknown` when the step's call never reported back).
 * - `finished`: the end, with the final output when completed or the error when not.
 */
export type SagaEntry =
  | { readonly type: 'started'; readonly at: number; readonly input: unknown; readonly owner?: string }
  | { readonly type: 'intent'; readonly at: number; readonly index: number; readonly step: string; readonly key: string }
  | { readonly type: 'step'; readonly at: number; readonly index: number; readonly step: string; readonly output: unknown }
  | { readonly type: 'takeover'; readonly at: number; readonly owner: string; readonly previous?: string; readonly direction: 'resume' | 'compensate' }
  | { readonly type: 'compensating'; readonly at: number; readonly error: ErrorJson }
  | { readonly type: 'compensated'; readonly at: number; readonly index: number; readonly step: string; readonly outcome?: 'completed' | 'unknown' }
  | { readonly type: 'compensation_failed'; readonly at: number; readonly index: number; readonly step: string; readonly error: string; readonly outcome?: 'completed' | 'unknown' }
  | { readonly type: 'finished'; readonly at: number; readonly outcome: SagaOutcome; readonly output?: unknown; readonly error?: ErrorJson };

/** The `started` entry. */
export type SagaStartedEntry = Extract<SagaEntry, { type: 'started' }>;

/** The log of one saga execution. */
export interface SagaRecord {
  /** The saga's name (its definition). */
  readonly saga: string;
  /** This execution's ID. */
  readonly sagaId: string;
  /** Entries in the order they were appended; the first is `started`, the last `finished` once it ended. */
  readonly entries: ReadonlyArray<SagaEntry>;
}

/** Who holds an execution's lease, and for how long: passed with every write. */
export interface SagaLease {
  readonly owner: string;
  readonly leaseMs: number;
}

/**
 * Where a saga records its progress, so that an execution interrupted by a crash is taken over by
 * another instance. Every method is async so the log can live in Redis or a database.
 *
 * Every unfinished execution has a lease: its owner renews it while it runs, and every write is
 * fenced by it, so a live execution is never taken over and an owner that lost its lease cannot
 * write. Finished executions are kept for a while (`retainFinished*`) so that starting the same
 * execution ID again replays the recorded outcome instead of running twice.
 *
 * @example
 * ```ts
 * const log: SagaLog = new MemorySagaLog();
 * const booking = saga([...steps], { name: 'book_trip', log });
 * ```
 */
export interface SagaLog {
  /**
   * Starts an execution and takes its lease, atomically. Resolves `undefined` when it started, or
   * the execution's existing record (finished or not) when the ID was already used.
   */
  begin(saga: string, sagaId: string, entry: SagaStartedEntry, lease: SagaLease): Promise<SagaRecord | undefined>;
  /**
   * Appends an entry, renewing the lease. Rejects with a `SagaConflictError` (`lease_lost`) when
   * another owner holds the lease or has finished the execution, and rejects when it is unknown. After
   * a `finished` entry the execution is no longer unfinished and its lease is gone.
   */
  append(saga: string, sagaId: string, entry: SagaEntry, lease: SagaLease): Promise<void>;
  /**
   * Takes the lease of an unfinished execution when nobody holds it (its owner died and the lease
   * lapsed), or renews it for its owner: true when `owner` holds it afterwards. A finished or
   * unknown execution can never be claimed.
   */
  claim(saga: string, sagaId: string, lease: SagaLease): Promise<boolean>;
  /** Every execution of the named saga that has started but not finished. */
  unfinished(saga: string): Promise<ReadonlyArray<SagaRecord>>;
  /** One execution's record: unfinished, or finished and still retained. */
  get(saga: string, sagaId: string): Promise<SagaRecord | undefined>;
}

/** Options for {@link MemorySagaLog}. */
export interface MemorySagaLogOptions {
  /**
   * How many finished executions to keep, so that a repeated execution ID replays its outcome
   * instead of running again; older ones are dropped (and their ID would run again).
   * @default 10_000
   */
  readonly retainFinished?: number;
}

const DEFAULTS = { retainFinished: 10_000 } satisfies Required<MemorySagaLogOptions>;

interface Stored {
  saga: string;
  sagaId: string;
  entries: SagaEntry[];
  finished: boolean;
  lease: { owner: string; until: number } | undefined;
}

/**
 * An in-process {@link SagaLog}: the default. It survives a failed or aborted run, but not the
 * process; use a durable log (Redis) to take over executions after a crash. It behaves like the
 * Redis log: leases fence writes, and a repeated execution ID replays the retained outcome.
 *
 * @example
 * ```ts
 * const log = new MemorySagaLog({ retainFinished: 100 });
 * const booking = saga([...steps], { name: 'book_trip', log });
 * ```
 */
export class MemorySagaLog implements SagaLog {
  private readonly sagas = new Map<string, Stored>();
  private readonly finishedOrder: string[] = [];
  private readonly retainFinished: number;

  constructor(options?: MemorySagaLogOptions) {
    const o = optionsObject('options', options, ['retainFinished'], 'MemorySagaLog');
    this.retainFinished = optionalNumber('retainFinished', o.retainFinished, { min: 0, integer: true }) ?? DEFAULTS.retainFinished;
  }

  begin(saga: string, sagaId: string, entry: SagaStartedEntry, lease: SagaLease): Promise<SagaRecord | undefined> {
    checkLease(lease);
    const key = keyOf(saga, sagaId);
    const existing = this.sagas.get(key);
    if (existing !== undefined) return Promise.resolve(recordOf(existing));
    this.sagas.set(key, { saga, sagaId, entries: [entry], finished: false, lease: { owner: lease.owner, until: currentClock().now() + lease.leaseMs } });
    return Promise.resolve(undefined);
  }

  append(saga: string, sagaId: string, entry: SagaEntry, lease: SagaLease): Promise<void> {
    checkLease(lease);
    const key = keyOf(saga, sagaId);
    const stored = this.sagas.get(key);
    if (stored === undefined) return Promise.reject(new Error(`Saga log has no execution ${JSON.stringify(sagaId.slice(0, 64))} of ${saga}`));
    // Only another owner can have finished it: this one's lease is gone.
    if (stored.finished) return Promise.reject(new SagaConflictError(saga, sagaId, 'lease_lost'));
    const now = currentClock().now();
    if (stored.lease !== undefined && stored.lease.owner !== lease.owner && stored.lease.until > now) {
      return Promise.reject(new SagaConflictError(saga, sagaId, 'lease_lost'));
    }
    stored.entries.push(entry);
    if (entry.type !== 'finished') {
      stored.lease = { owner: lease.owner, until: now + lease.leaseMs };
      return Promise.resolve();
    }
    stored.finished = true;
    stored.lease = undefined;
    if (this.retainFinished === 0) this.sagas.delete(key);
    else {
      this.finishedOrder.push(key);
      if (this.finishedOrder.length > this.retainFinished) this.sagas.delete(this.finishedOrder.shift()!);
    }
    return Promise.resolve();
  }

  claim(saga: string, sagaId: string, lease: SagaLease): Promise<boolean> {
    checkLease(lease);
    const stored = this.sagas.get(keyOf(saga, sagaId));
    if (stored === undefined || stored.finished) return Promise.resolve(false);
    const now = currentClock().now();
    if (stored.lease !== undefined && stored.lease.owner !== lease.owner && stored.lease.until > now) return Promise.resolve(false);
    stored.lease = { owner: lease.owner, until: now + lease.leaseMs };
    return Promise.resolve(true);
  }

  unfinished(saga: string): Promise<ReadonlyArray<SagaRecord>> {
    const out: SagaRecord[] = [];
    for (const s of this.sagas.values()) if (s.saga === saga && !s.finished) out.push(recordOf(s));
    return Promise.resolve(out);
  }

  get(saga: string, sagaId: string): Promise<SagaRecord | undefined> {
    const s = this.sagas.get(keyOf(saga, sagaId));
    return Promise.resolve(s && recordOf(s));
  }
}

function recordOf(s: Stored): SagaRecord {
  return { saga: s.saga, sagaId: s.sagaId, entries: s.entries.slice() };
}

function checkLease(lease: SagaLease): void {
  if (typeof lease?.owner !== 'string' || lease.owner === '') fail('lease.owner', 'a non-empty string', lease?.owner);
  if (typeof lease.leaseMs !== 'number' || !(lease.leaseMs >= 1)) fail('lease.leaseMs', 'a number of milliseconds, at least 1', lease.leaseMs);
}

function keyOf(saga: string, sagaId: string): string {
  return `${saga}\u0000${sagaId}`;
}
