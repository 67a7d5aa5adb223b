import { currentClock } from '../clock/clock.js';
import { fail, optionalNumber, optionsObject } from '../internal/validate-options.js';

/** How a saga ended. */
export type SagaOutcome = 'completed' | 'compensated' | 'compensation_failed';

/**
 * One entry of a saga's log, appended as the saga makes progress. Durable logs serialize entries,
 * so a saga's input and its steps' outputs should be JSON-serializable when one is used.
 */
export type SagaEntry =
  | { readonly type: 'started'; readonly at: number; readonly input: unknown }
  | { readonly type: 'step'; readonly at: number; readonly index: number; readonly step: string; readonly output: unknown }
  | { readonly type: 'compensated'; readonly at: number; readonly index: number; readonly step: string }
  | { readonly type: 'compensation_failed'; readonly at: number; readonly index: number; readonly step: string; readonly error: string }
  | { readonly type: 'finished'; readonly at: number; readonly outcome: SagaOutcome };

/** The log of one saga execution. */
export interface SagaRecord {
  /** The saga's name (its definition). */
  readonly saga: string;
  /** This execution's ID. */
  readonly sagaId: string;
  /** Entries in the order they were appended; the first is `started`. */
  readonly entries: ReadonlyArray<SagaEntry>;
}

/**
 * Where a saga records its progress, so that a saga interrupted by a crash can be compensated
 * later by `recoverSagas()`. Every method is async so the log can live in Redis or a database.
 *
 * @example
 * ```ts
 * const log: SagaLog = new MemorySagaLog();
 * const booking = saga([...steps], { name: 'book_trip', log });
 * ```
 */
export interface SagaLog {
  /** Appends an entry to a saga's log. After a `finished` entry the saga is no longer unfinished. */
  append(saga: string, sagaId: string, entry: SagaEntry): Promise<void>;
  /** Every execution of the named saga that has started but not finished. */
  unfinished(saga: string): Promise<ReadonlyArray<SagaRecord>>;
  /**
   * Claims the right to compensate one execution, atomically: true for exactly one caller at a
   * time. A claim lapses after `leaseMs` so that work claimed by a process that died can be taken
   * over; a finished saga can never be claimed.
   */
  claim(saga: string, sagaId: string, owner: string, leaseMs: number): Promise<boolean>;
}

/** Options for {@link MemorySagaLog}. */
export interface MemorySagaLogOptions {
  /** How many finished sagas to keep for inspection with `get()`; older ones are dropped. @default 0 */
  readonly retainFinished?: number;
}

const DEFAULTS = { retainFinished: 0 } satisfies Required<MemorySagaLogOptions>;

interface Stored {
  saga: string;
  sagaId: string;
  entries: SagaEntry[];
  finished: boolean;
  claim: { owner: string; until: number } | undefined;
}

/**
 * An in-process {@link SagaLog}: the default. It survives a failed or aborted run, but not the
 * process; use a durable log (Redis) to recover from crashes. Finished sagas are dropped at once
 * unless `retainFinished` keeps some, so the log does not grow without bound.
 *
 * @example
 * ```ts
 * const log = new MemorySagaLog({ retainFinished: 100 });
 * const booking = saga([...steps], { name: 'book_trip', log });
 * await recoverSagas(booking); // compensates executions that never finished
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

  append(saga: string, sagaId: string, entry: SagaEntry): Promise<void> {
    const key = keyOf(saga, sagaId);
    let stored = this.sagas.get(key);
    if (stored === undefined) {
      if (entry.type !== 'started') return Promise.reject(new Error(`Saga log has no execution ${JSON.stringify(sagaId.slice(0, 64))} of ${saga}`));
      stored = { saga, sagaId, entries: [], finished: false, claim: undefined };
      this.sagas.set(key, stored);
    } else if (stored.finished) {
      return Promise.reject(new Error(`Saga ${saga} execution ${JSON.stringify(sagaId.slice(0, 64))} already finished`));
    }
    stored.entries.push(entry);
    if (entry.type === 'finished') {
      stored.finished = true;
      stored.claim = undefined;
      if (this.retainFinished === 0) this.sagas.delete(key);
      else {
        this.finishedOrder.push(key);
        if (this.finishedOrder.length > this.retainFinished) this.sagas.delete(this.finishedOrder.shift()!);
      }
    }
    return Promise.resolve();
  }

  unfinished(saga: string): Promise<ReadonlyArray<SagaRecord>> {
    const out: SagaRecord[] = [];
    for (const s of this.sagas.values()) {
      if (s.saga === saga && !s.finished) out.push({ saga: s.saga, sagaId: s.sagaId, entries: s.entries.slice() });
    }
    return Promise.resolve(out);
  }

  claim(saga: string, sagaId: string, owner: string, leaseMs: number): Promise<boolean> {
    if (typeof owner !== 'string' || owner === '') fail('owner', 'a non-empty string', owner);
    const stored = this.sagas.get(keyOf(saga, sagaId));
    if (stored === undefined || stored.finished) return Promise.resolve(false);
    const now = currentClock().now();
    if (stored.claim !== undefined && stored.claim.owner !== owner && stored.claim.until > now) return Promise.resolve(false);
    stored.claim = { owner, until: now + leaseMs };
    return Promise.resolve(true);
  }

  /** A copy of one execution's log, finished or not (finished ones only while retained). */
  get(saga: string, sagaId: string): SagaRecord | undefined {
    const s = this.sagas.get(keyOf(saga, sagaId));
    return s && { saga: s.saga, sagaId: s.sagaId, entries: s.entries.slice() };
  }
}

function keyOf(saga: string, sagaId: string): string {
  return `${saga}\u0000${sagaId}`;
}
