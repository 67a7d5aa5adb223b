import type { Primitive, RunOptions } from '@weft/core';

/**
 * A failed run's error, as a dead-letter entry keeps it: plain data, so it survives storage.
 *
 * @example
 * ```ts
 * const error: DeadLetterError = { name: 'TimeoutError', message: 'Timed out after 5000 ms', code: 'TIMEOUT' };
 * ```
 */
export interface DeadLetterError {
  readonly name: string;
  readonly message: string;
  /** The error's `code`, when it had a string or number one (every Weft error has). */
  readonly code?: string | number;
}

/**
 * What {@link deadLetter} hands to {@link DeadLetterStore.add}: a run that failed for good.
 *
 * @example
 * ```ts
 * await store.add({ queue: 'charge', input, error: { name: 'Error', message: 'declined' }, correlationId: 'req-1', workflow: 'checkout', failedAt: Date.now() }, 7 * 86_400_000);
 * ```
 */
export interface DeadLetterCapture<I = unknown> {
  /** The dead-letter queue: the `name` given to `deadLetter()`. */
  readonly queue: string;
  /** The input of the failed call, to replay it with. */
  readonly input: I;
  readonly error: DeadLetterError;
  /** The run's correlation ID, to find its logs and traces; a replay runs under it again. */
  readonly correlationId: string;
  /** The workflow the failed call ran in. */
  readonly workflow: string;
  /** When it failed, in epoch ms. */
  readonly failedAt: number;
}

/**
 * One stored dead letter.
 *
 * @example
 * ```ts
 * for (const entry of await store.list('charge')) console.log(entry.id, entry.error.message, entry.correlationId);
 * ```
 */
export interface DeadLetterEntry<I = unknown> extends DeadLetterCapture<I> {
  /** Unique within the queue. */
  readonly id: string;
  /** When the entry expires and is dropped, in epoch ms. */
  readonly expiresAt: number;
  /** Replays tried so far that failed. */
  readonly replays: number;
}

/**
 * Where failed runs are kept until someone replays or removes them. Each entry has a TTL; a store
 * lists entries newest first and never returns expired ones.
 *
 * @example
 * ```ts
 * const store: DeadLetterStore = new RedisDeadLetterStore(redis);
 * const failed = await store.list('charge', { limit: 20 });
 * if (failed[0]) await store.replay(failed[0], chargeCard);
 * ```
 */
export interface DeadLetterStore {
  /** Stores a failed run for `ttlMs`; resolves with the stored entry. */
  add<I>(capture: DeadLetterCapture<I>, ttlMs: number): Promise<DeadLetterEntry<I>>;
  /** The queue's live entries, newest first, at most `limit` (default 100). */
  list(queue: string, options?: { readonly limit?: number }): Promise<ReadonlyArray<DeadLetterEntry>>;
  /** One entry, or undefined when it is gone (removed, replayed or expired). */
  get(queue: string, id: string): Promise<DeadLetterEntry | undefined>;
  /** Removes an entry; true when it was there. */
  remove(queue: string, id: string): Promise<boolean>;
  /**
   * Runs `primitive` on the entry's input again (under its correlation ID unless `options` say
   * otherwise). On success the entry is removed and the output returned; on failure the entry
   * stays (its `replays` count goes up) and the error is thrown. An entry being replayed by
   * someone else, or already gone, rejects without running anything.
   */
  replay<I, O>(entry: DeadLetterEntry<I>, primitive: Primitive<I, O>, options?: RunOptions): Promise<O>;
}
