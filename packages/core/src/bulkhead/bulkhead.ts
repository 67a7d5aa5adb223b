import { BulkheadRejectedError } from '../errors/bulkhead-rejected-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import type { Scope } from '../internal/scope.js';
import { fail, number, optionalFunction, optionalNumber, optionsObject, primitiveName } from '../internal/validate-options.js';
import { checkClock, currentClock, type Clock, type TimerHandle } from '../clock/clock.js';
import { callHook } from '../internal/hooks.js';
import { Primitive, type Exec } from '../primitive.js';

/**
 * Options for {@link Bulkhead} and {@link bulkhead}.
 *
 * @example
 * ```ts
 * const options: BulkheadOptions = { maxConcurrent: 4, maxQueue: 20, name: 'llm' };
 * ```
 */
export interface BulkheadOptions {
  /** How many calls may run at once: a positive integer. */
  readonly maxConcurrent: number;
  /**
   * How many calls may wait for a slot once all are taken; further calls are rejected with
   * `BulkheadRejectedError`. A queued call leaves the queue at once when its run aborts or its
   * deadline passes.
   * @default 0
   */
  readonly maxQueue?: number;
  /**
   * The bulkhead's name on events: a short identifier written in code.
   * @default the wrapped primitive's name for `bulkhead(p, options)`; `"bulkhead"` for `new Bulkhead()`
   */
  readonly name?: string;
  /** The clock whose timers bound a queued call by its deadline. @default the current clock (`useClock`) */
  readonly clock?: Clock;
  /** Called with each refusal (queue full), before the caller sees it; must not throw (a throw is swallowed). */
  readonly onRejected?: (error: BulkheadRejectedError) => void;
}

const DEFAULTS = { maxQueue: 0, name: 'bulkhead' } as const satisfies Required<Omit<BulkheadOptions, 'maxConcurrent' | 'clock' | 'onRejected'>>;
const KNOWN = ['maxConcurrent', 'maxQueue', 'name', 'clock', 'onRejected'] as const;

/** The largest delay setTimeout honours; longer deadlines get no queue timer (the run's own timer still fires). */
const MAX_TIMER = 2_147_483_647;

/** A call waiting for a slot: a node of the bulkhead's doubly linked FIFO queue. */
interface Waiter {
  readonly exec: Exec<unknown, unknown>;
  readonly input: unknown;
  readonly ctx: Ctx;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  off: () => void;
  timer: TimerHandle | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
  inQueue: boolean;
}

/**
 * A concurrency limit with a bounded FIFO queue, shareable by several primitives: they all draw on
 * the same `maxConcurrent` slots and the same queue.
 *
 * A slot is held until the wrapped call settles, so work that ignores its signal keeps its slot
 * until it really finishes. A queued call whose run aborts (caller abort, timeout, failed sibling)
 * leaves the queue at once and rejects with the abort reason; one whose deadline passes while
 * queued rejects with `TimeoutError`. Neither ever holds a slot.
 *
 * @example
 * ```ts
 * const db = new Bulkhead({ maxConcurrent: 10, maxQueue: 50, name: 'db' });
 * const readUser = step('read-user', getUser).bulkhead(db);
 * const writeUser = step('write-user', putUser).bulkhead(db);
 * console.log(db.active, db.queued);
 * ```
 */
export class Bulkhead {
  /** Recognises instances from any installed copy of `@weft/core`, so a shared one is never silently replaced. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[Symbol.for('weft.bulkhead.v1')] === true;
  }
  /** How many calls may run at once. */
  readonly maxConcurrent: number;
  /** How many calls may wait for a slot. */
  readonly maxQueue: number;
  /** The name on this bulkhead's events. */
  readonly name: string;
  private readonly clockOption: Clock | undefined;
  private readonly onRejected: ((error: BulkheadRejectedError) => void) | undefined;
  private running = 0;
  private waiting = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  // Created once per bulkhead so a call through a free slot allocates no closure.
  private readonly released: (value: unknown) => unknown;
  private readonly releasedWithError: (error: unknown) => never;

  /**
   * @param options the limits; see {@link BulkheadOptions}.
   * @param defaultName @internal the name when `options.name` is absent (the wrapped primitive's name).
   */
  constructor(options: BulkheadOptions, defaultName: string = DEFAULTS.name) {
    const o = optionsObject('options', options, KNOWN, 'bulkhead');
    this.clockOption = checkClock('clock', o.clock);
    this.onRejected = optionalFunction<(error: BulkheadRejectedError) => void>('onRejected', o.onRejected);
    const maxConcurrent = optionalNumber('maxConcurrent', o.maxConcurrent, { min: 1, integer: true });
    if (maxConcurrent === undefined) fail('maxConcurrent', 'an integer >= 1', o.maxConcurrent);
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = number('maxQueue', o.maxQueue, DEFAULTS.maxQueue, { min: 0, integer: true, finite: false });
    this.name = o.name === undefined ? defaultName : primitiveName('name', o.name);
    this.released = (value) => {
      this.release();
      return value;
    };
    this.releasedWithError = (error) => {
      this.release();
      throw error;
    };
  }

  /** The clock of this bulkhead's queue timers. */
  private clock(): Clock {
    return this.clockOption ?? currentClock();
  }

  /** How many calls hold a slot now. */
  get active(): number {
    return this.running;
  }

  /** How many calls wait for a slot now. */
  get queued(): number {
    return this.waiting;
  }

  /** @internal Runs `exec` in a slot: now, after waiting in the queue, or never (rejected). */
  execute<I, O>(exec: Exec<I, O>, input: I, ctx: Ctx): Promise<O> {
    const scope = ctx.scope;
    if (scope.aborted) return Promise.reject(abortReasonError(scope.reason));
    // The queue is only non-empty while every slot is taken, so a free slot means nobody waits.
    if (this.running < this.maxConcurrent) {
      this.running++;
      return this.start(exec as Exec<unknown, O>, input, ctx);
    }
    if (this.waiting >= this.maxQueue) {
      if (listening()) emit(ctx, 'bulkhead', { type: 'bulkhead.rejected', bulkhead: this.name, active: this.running, queued: this.waiting });
      const error = new BulkheadRejectedError(this.maxConcurrent, this.maxQueue);
      callHook(this.onRejected, error);
      return Promise.reject(error);
    }
    let wait: number | undefined;
    if (ctx.deadline !== undefined) {
      wait = ctx.deadline - this.clock().now();
      if (wait <= 0) return Promise.reject(new TimeoutError(0, `Deadline passed before a slot of bulkhead "${this.name}" was free`));
      if (wait > MAX_TIMER) wait = undefined;
    }
    return this.enqueue(exec as Exec<unknown, unknown>, input, ctx, wait) as Promise<O>;
  }

  private start<O>(exec: Exec<unknown, O>, input: unknown, ctx: Ctx): Promise<O> {
    let p: Promise<O>;
    try {
      p = exec(input, ctx);
    } catch (error) {
      p = Promise.reject(toError(error));
    }
    // Released in a promise reaction, never synchronously, so a queue drains without recursion.
    return p.then(this.released, this.releasedWithError) as Promise<O>;
  }

  private enqueue(exec: Exec<unknown, unknown>, input: unknown, ctx: Ctx, wait: number | undefined): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const w: Waiter = { exec, input, ctx, resolve, reject, off: noop, timer: undefined, prev: this.tail, next: undefined, inQueue: true };
      if (this.tail) this.tail.next = w;
      else this.head = w;
      this.tail = w;
      this.waiting++;
      w.off = ctx.scope.onAbort((reason) => {
        if (!w.inQueue) return;
        this.unlink(w);
        if (w.timer !== undefined) this.clock().clearTimeout(w.timer);
        reject(abortReasonError(reason));
      });
      if (wait !== undefined) {
        const ms = wait;
        w.timer = this.clock().setTimeout(() => {
          if (!w.inQueue) return;
          this.unlink(w);
          w.off();
          reject(new TimeoutError(ms, `Deadline passed after ${Math.round(ms)} ms waiting for a slot of bulkhead "${this.name}"`));
        }, ms);
      }
      if (listening()) emit(ctx, 'bulkhead', { type: 'bulkhead.queued', bulkhead: this.name, queued: this.waiting });
    });
  }

  private unlink(w: Waiter): void {
    w.inQueue = false;
    if (w.prev) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = undefined;
    w.next = undefined;
    this.waiting--;
  }

  private release(): void {
    let w = this.head;
    while (w !== undefined) {
      this.unlink(w);
      w.off();
      if (w.timer !== undefined) this.clock().clearTimeout(w.timer);
      // Defence in depth: a scope detached from its parent before the parent aborted never hears of
      // the abort, so check the whole chain before spending a slot on abandoned work.
      const gone = abortedAncestor(w.ctx.scope);
      if (gone === undefined) {
        // Hand the slot straight to the next waiter: `running` stays the same.
        this.start(w.exec, w.input, w.ctx).then(w.resolve, w.reject);
        return;
      }
      w.reject(abortReasonError(gone.reason));
      w = this.head;
    }
    this.running--;
  }
}

function abortedAncestor(scope: Scope | undefined): Scope | undefined {
  for (let s = scope; s !== undefined; s = s.parent) if (s.aborted) return s;
  return undefined;
}

/**
 * A bulkhead to share, or options for one of the wrapped primitive's own.
 *
 * @example
 * ```ts
 * step('a', fa).bulkhead({ maxConcurrent: 2 }); // its own
 * step('b', fb).bulkhead(sharedBulkhead);         // shared
 * ```
 */
export type BulkheadArg = BulkheadOptions | Bulkhead;

/**
 * Limits how many calls of `primitive` run at once, with a bounded queue for the rest. Pass a
 * {@link Bulkhead} to share one limit between several primitives. A call that finds every slot
 * taken and the queue full rejects at once with `BulkheadRejectedError` (`bulkhead.rejected`);
 * one that queues emits `bulkhead.queued`.
 *
 * @example
 * ```ts
 * const limited = bulkhead(callLlm, { maxConcurrent: 4, maxQueue: 20 }); // or callLlm.bulkhead({ ... })
 * ```
 */
export function bulkhead<I, O>(primitive: Primitive<I, O>, options: BulkheadArg): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const shared = options instanceof Bulkhead ? options : new Bulkhead(options, primitive.name);
  const inner = primitive.exec;
  const exec: Exec<I, O> = (input, ctx) => shared.execute(inner, input, ctx);
  return new Primitive(primitive.name, 'bulkhead', exec);
}

function noop(): void {}

Object.defineProperty(Bulkhead.prototype, Symbol.for('weft.bulkhead.v1'), { value: true });
