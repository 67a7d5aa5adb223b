import { checkClock, currentClock, type Clock } from '../clock/clock.js';
import type { RunContext } from '../context/run-context.js';
import { BudgetExceededError } from '../errors/budget-exceeded-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { awaitStore, type StoreAnswer } from '../internal/await-store.js';
import { nodeCrypto } from '../internal/crypto.js';
import { abortReasonError, type Ctx, type RunState } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { isThenable } from '../internal/is-thenable.js';
import { fromNanos, MAX_AMOUNT, toNanos } from '../internal/money.js';
import { Scope } from '../internal/scope.js';
import { fail, number, optionalBoolean, optionalFunction, optionalNumber, optionsObject, primitiveName, show } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import type { BudgetCharge, BudgetStore } from './budget-store.js';
import { closeSink, openSink, type CostSink } from './cost-sink.js';
import { runTotal } from './ledger.js';
import { LocalBudgetStore } from './local-budget-store.js';

/**
 * A rolling-window limit: at most `limit` spent in any `windowMs`.
 *
 * @example
 * ```ts
 * const daily: BudgetWindow = { limit: 25, windowMs: 24 * 60 * 60 * 1000 }; // $25 a day
 * ```
 */
export interface BudgetWindow {
  /** The most that may be spent in the window, in the ledger's currency. */
  readonly limit: number;
  /** The window's length in milliseconds. */
  readonly windowMs: number;
}

/** Options for {@link budget}. */
export interface BudgetOptions<I = unknown> {
  /** The budget's name: the store key, and the `budget` label of events and metrics. Budgets with the same name share their spend. */
  readonly name: string;
  /** The most one run may spend, counting every cost recorded anywhere in the run. At least one of `perRun` and `window` is required. */
  readonly perRun?: number;
  /** A rolling-window limit shared by every run that uses the same store and name (and `key`). */
  readonly window?: BudgetWindow;
  /**
   * Keeps the window's spend per key instead of one tally per name: each call is charged to
   * `<name>:<key(input, ctx)>` in the store, with the same `limit`, so a budget named `daily` with
   * `key: (req) => req.apiKeyId` gives every API key its own daily allowance. Events and metrics
   * keep the plain `name` as their `budget` label, so label cardinality stays bounded; the key
   * appears only in the error message. The key must be a string of 1-200 characters; do not
   * return a secret (hash it). Requires `window`: per-run limits are per run already.
   * @default undefined (one tally per name)
   */
  readonly key?: (input: I, ctx: RunContext) => string;
  /**
   * What one call is expected to cost, or a function of the input that says so. Reserved before
   * the call; a call whose estimate does not fit is refused.
   * @default 0
   */
  readonly estimate?: number | ((input: I) => number);
  /** The share of a limit at which `budget.warning` fires, once each time spend crosses it upwards. @default 0.8 */
  readonly warnAt?: number;
  /** Where the window's spend is kept. @default a process-wide LocalBudgetStore, shared by budgets of the same name */
  readonly store?: BudgetStore;
  /** How long to wait for the store before treating it as failed. @default 1000 */
  readonly storeTimeoutMs?: number;
  /**
   * What to do when the store throws, rejects or times out: `false` refuses the call with a
   * `BudgetExceededError` whose `cause` is the store's error; `true` lets it run unchecked.
   * Both emit `budget.store_error`.
   * @default false
   */
  readonly failOpen?: boolean;
  /**
   * A bounded way to keep serving while the store is down, instead of refusing every call: a call
   * whose store check fails may instead reserve in a process-local allowance of this much per key
   * per window (an in-memory {@link LocalBudgetStore}, with the same `windowMs`), and settles there.
   * When the allowance is spent the call is refused as with `failOpen: false`. So an outage can
   * overspend the shared limit by at most `localAllowance` per key per process. Every such call
   * is counted: `budget.store_error` carries `decision: 'allowance'` or `'refused'`.
   * Requires `window`; cannot be combined with `failOpen: true`.
   * @default 0 (no allowance: fail closed)
   */
  readonly localAllowance?: number;
  /** The clock that timestamps window charges. @default the current clock (`useClock`), else the system clock */
  readonly clock?: Clock;
}

const DEFAULTS = { estimate: 0, warnAt: 0.8, storeTimeoutMs: 1_000, failOpen: false, localAllowance: 0 } as const satisfies Required<
  Omit<BudgetOptions, 'name' | 'perRun' | 'window' | 'store' | 'key' | 'clock'>
>;

const KNOWN = ['name', 'perRun', 'window', 'key', 'estimate', 'warnAt', 'store', 'storeTimeoutMs', 'failOpen', 'localAllowance', 'clock'] as const;

/** The longest key `key()` may return. */
const MAX_KEY_LENGTH = 200;

let sharedStore: LocalBudgetStore | undefined;
const RUN_BUDGETS = Symbol('weft.budget.run');

/** Per-run state of per-run budgets, keyed by budget name. Amounts in nano-units. */
interface RunBudgets {
  /** Estimates of calls in flight, so concurrent calls cannot all pass the same check. */
  readonly reserved: Map<string, { nanos: number; calls: number }>;
  /** Budgets whose warning has fired in this run (a run's spend only grows, so once is enough). */
  readonly warned: Set<string>;
}

/** A store failure: why, and the error (a TimeoutError for `timeout`). */
type StoreFailure = Extract<StoreAnswer<unknown>, { ok: false }>;

/** A budget's validated options; every amount in integer nano-units. Shared by its calls. */
class BudgetPolicy<I> {
  readonly name: string;
  readonly perRun: number | undefined;
  readonly limit: number;
  readonly windowMs: number;
  readonly store: BudgetStore | undefined;
  readonly storeTimeoutMs: number;
  readonly failOpen: boolean;
  /** The process-local allowance per key while the store is down, in nano-units; 0 for none. */
  readonly localAllowance: number;
  /** Where calls admitted by the local allowance reserve and settle; undefined without one. */
  readonly localStore: LocalBudgetStore | undefined;
  /** The share of a limit at which the budget warns. */
  readonly warnAt: number;
  readonly runWarnAt: number;
  readonly windowWarnAt: number;
  private readonly estimateFn: ((input: I) => number) | undefined;
  private readonly estimateNanos: number;
  private readonly keyFn: ((input: I, ctx: RunContext) => string) | undefined;
  private readonly clockOption: Clock | undefined;

  constructor(options: unknown) {
    if (typeof options !== 'object' || options === null) fail('options', 'an options object with `name` and `perRun` or `window`', options);
    const o = optionsObject('options', options, KNOWN, 'budget');
    this.name = primitiveName('name', o.name);
    const perRun = amount('perRun', o.perRun);
    if (perRun === 0) fail('perRun', 'a number > 0', o.perRun);
    this.perRun = perRun;
    let limit = 0;
    let windowMs = 0;
    if (o.window !== undefined) {
      const w = optionsObject('window', o.window, ['limit', 'windowMs'], 'budget window');
      limit = amount('window.limit', w.limit) ?? fail('window.limit', 'a number > 0', w.limit);
      if (limit === 0) fail('window.limit', 'a number > 0', w.limit);
      windowMs = optionalNumber('window.windowMs', w.windowMs, { min: 1, integer: true }) ?? fail('window.windowMs', 'an integer >= 1', w.windowMs);
    }
    this.limit = limit;
    this.windowMs = windowMs;
    if (perRun === undefined && windowMs === 0) fail('perRun', 'a number > 0 (or give `window`): a budget needs a limit', o.perRun);
    if (typeof o.estimate === 'function') {
      this.estimateFn = o.estimate as (input: I) => number;
      this.estimateNanos = 0;
    } else {
      this.estimateNanos = amount('estimate', o.estimate) ?? DEFAULTS.estimate;
    }
    const warnAt = number('warnAt', o.warnAt, DEFAULTS.warnAt, { min: 0, max: 1 });
    if (warnAt === 0) fail('warnAt', 'a number > 0 and <= 1', warnAt);
    this.warnAt = warnAt;
    this.runWarnAt = perRun === undefined ? 0 : Math.ceil(warnAt * perRun);
    this.windowWarnAt = Math.ceil(warnAt * limit);
    this.storeTimeoutMs = number('storeTimeoutMs', o.storeTimeoutMs, DEFAULTS.storeTimeoutMs, { min: 1, max: 2_147_483_647 });
    this.failOpen = optionalBoolean('failOpen', o.failOpen) ?? DEFAULTS.failOpen;
    this.localAllowance = amount('localAllowance', o.localAllowance) ?? DEFAULTS.localAllowance;
    if (this.localAllowance > 0 && this.failOpen) fail('localAllowance', 'unset (or 0) with failOpen: true, which lets every call through anyway', o.localAllowance);
    if (this.localAllowance > 0 && windowMs === 0) fail('window', 'a rolling window { limit, windowMs } when `localAllowance` is given', o.window);
    this.localStore = this.localAllowance > 0 ? new LocalBudgetStore() : undefined;
    if (windowMs > 0) {
      if (o.store === undefined) this.store = sharedStore ??= new LocalBudgetStore();
      else {
        const s = o.store as BudgetStore;
        if (typeof s !== 'object' || s === null || typeof s.tryCharge !== 'function' || typeof s.charge !== 'function') {
          fail('store', 'a BudgetStore with tryCharge() and charge()', o.store);
        }
        this.store = s;
      }
    } else if (o.store !== undefined) {
      fail('window', 'a rolling window { limit, windowMs } when `store` is given', o.window);
    }
    this.keyFn = optionalFunction<(input: I, ctx: RunContext) => string>('key', o.key);
    if (this.keyFn !== undefined && windowMs === 0) fail('window', 'a rolling window { limit, windowMs } when `key` is given', o.window);
    this.clockOption = checkClock('clock', o.clock);
  }

  get hasWindow(): boolean {
    return this.windowMs > 0;
  }

  now(): number {
    return (this.clockOption ?? currentClock()).now();
  }

  /** The call's estimate, in nano-units. */
  estimateOf(input: I): number {
    if (this.estimateFn === undefined) return this.estimateNanos;
    const value = this.estimateFn(input);
    if (typeof value !== 'number' || !(value >= 0 && value <= MAX_AMOUNT)) fail('estimate', `a function returning a number >= 0 and <= ${MAX_AMOUNT}`, value);
    return toNanos(value);
  }

  /** The store key of the call: the name, or `<name>:<key>` for a keyed budget. */
  storeKeyOf(input: I, ctx: Ctx): string {
    if (this.keyFn === undefined) return this.name;
    const value = this.keyFn(input, ctx);
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) fail('key', `a function returning a string of 1-${MAX_KEY_LENGTH} characters`, value);
    return `${this.name}:${value}`;
  }

  /** A keyed budget's partition, hashed: it identifies the key to telemetry without revealing it. */
  partitionOf(storeKey: string): string | undefined {
    return storeKey === this.name ? undefined : nodeCrypto().createHash('sha256').update(storeKey).digest('base64url').slice(0, 16);
  }

  emitBudget(ctx: Ctx, type: 'budget.warning' | 'budget.exceeded' | 'budget.usage', scope: 'run' | 'window', spent: number, max: number, partition?: string): void {
    emit(ctx, 'budget', { type, budget: this.name, scope, spent: fromNanos(spent), limit: fromNanos(max), utilisation: spent / max, warnAt: this.warnAt, partition });
  }

  storeFailed(ctx: Ctx, operation: 'reserve' | 'charge', failure: StoreFailure, decision?: 'open' | 'allowance' | 'refused'): void {
    if (listening()) emit(ctx, 'budget', { type: 'budget.store_error', budget: this.name, failOpen: this.failOpen, operation, reason: failure.reason, error: failure.error, decision });
  }
}

/**
 * One call through a budget: reserve (per run, then in the window), run, then settle the window's
 * account with what the call actually recorded. Every amount is in integer nano-units.
 */
class BudgetCall<I, O> {
  private readonly storeKey: string;
  private readonly amount: number;
  private readonly run: RunBudgets | undefined;
  /** When the window's reservation was made: corrections are charged at the same time, so they expire together. */
  private at = 0;
  /** The window's answer to the reservation; undefined when it failed open. */
  private reserved: BudgetCharge | undefined;
  /** Where the reservation was made and is settled: the policy's store, or its local allowance while the store is down. */
  private store: BudgetStore;

  constructor(
    private readonly policy: BudgetPolicy<I>,
    private readonly inner: Exec<I, O>,
    private readonly input: I,
    private readonly ctx: Ctx,
    storeKey: string,
    amount: number,
    run: RunBudgets | undefined,
  ) {
    this.storeKey = storeKey;
    this.amount = amount;
    this.run = run;
    this.store = policy.store!;
  }

  /** Reserves in the window, then runs. The per-run reservation is already made. */
  start(): Promise<O> {
    const policy = this.policy;
    if (!policy.hasWindow) return this.call();
    this.at = policy.now();
    let answer: BudgetCharge | PromiseLike<BudgetCharge>;
    try {
      answer = policy.store!.tryCharge(this.storeKey, this.amount, policy.limit, policy.windowMs, this.at);
    } catch (error) {
      return this.storeDown({ ok: false, reason: 'error', error: toError(error) });
    }
    if (!isThenable<BudgetCharge>(answer)) return this.answered(answer);
    const store = this.store;
    const late = (value: BudgetCharge): void => {
      if (value?.allowed) this.refund(store);
    };
    return awaitStore(answer, { ms: policy.storeTimeoutMs, what: `Budget store for "${policy.name}"`, scope: this.ctx.scope, late }).then(
      (a) => (a.ok ? this.answered(a.value) : this.storeDown(a)),
      (aborted: unknown) => {
        this.releaseRun();
        throw aborted;
      },
    );
  }

  /** The window's reservation answered. */
  private answered(answer: BudgetCharge): Promise<O> {
    const { policy, ctx, storeKey, amount } = this;
    if (typeof answer !== 'object' || answer === null || typeof answer.allowed !== 'boolean' || !Number.isSafeInteger(answer.spent)) {
      return this.storeDown({ ok: false, reason: 'error', error: new TypeError(`Budget store for "${policy.name}" answered ${show(answer)}, not { allowed, spent } in integer nano-units`) });
    }
    if (!answer.allowed) {
      this.releaseRun();
      if (listening()) policy.emitBudget(ctx, 'budget.exceeded', 'window', answer.spent, policy.limit, policy.partitionOf(storeKey));
      const key = storeKey === policy.name ? undefined : storeKey.slice(policy.name.length + 1);
      return Promise.reject(exceeded(policy.name, 'window', answer.spent, policy.limit, amount, key));
    }
    if (listening() && answer.spent - amount < policy.windowWarnAt && answer.spent >= policy.windowWarnAt) {
      policy.emitBudget(ctx, 'budget.warning', 'window', answer.spent, policy.limit, policy.partitionOf(storeKey));
    }
    if (ctx.scope.aborted) {
      // Aborted while the store answered: give the reservation back.
      this.refund(this.store);
      this.releaseRun();
      return Promise.reject(abortReasonError(ctx.scope.reason));
    }
    this.reserved = answer;
    return this.call();
  }

  private storeDown(failure: StoreFailure): Promise<O> {
    const policy = this.policy;
    if (policy.failOpen) {
      policy.storeFailed(this.ctx, 'reserve', failure, 'open');
      return this.call();
    }
    const local = policy.localStore;
    if (local !== undefined && !this.ctx.scope.aborted) {
      const answer = local.tryCharge(this.storeKey, this.amount, policy.localAllowance, policy.windowMs, this.at);
      if (answer.allowed) {
        policy.storeFailed(this.ctx, 'reserve', failure, 'allowance');
        this.store = local;
        this.reserved = answer;
        return this.call();
      }
    }
    policy.storeFailed(this.ctx, 'reserve', failure, 'refused');
    this.releaseRun();
    const spentAllowance = local === undefined ? '' : ` and its local allowance of ${fromNanos(policy.localAllowance)} is spent`;
    const error = new BudgetExceededError(
      policy.name,
      fromNanos(policy.limit),
      Number.NaN,
      `Budget "${policy.name}" could not be checked: its store ${failure.reason === 'timeout' ? `did not answer within ${policy.storeTimeoutMs} ms` : `failed (${failure.error.message})`}${spentAllowance}; the call was refused (failOpen: false)`,
    );
    Object.defineProperty(error, 'cause', { value: failure.error, writable: true, configurable: true, enumerable: false });
    return Promise.reject(error);
  }

  /** Runs the call (with a cost sink when there is a window to settle), then settles. */
  private call(): Promise<O> {
    let scope: Scope | undefined;
    let sink: CostSink | undefined;
    let out: Promise<O>;
    try {
      if (this.policy.hasWindow) {
        scope = new Scope(this.ctx.scope);
        sink = openSink(scope);
        out = this.inner(this.input, this.ctx.with({ scope }));
      } else {
        out = this.inner(this.input, this.ctx);
      }
    } catch (error) {
      out = Promise.reject(toError(error));
    }
    return out.then(
      (output) => {
        const done = this.settle(scope, sink);
        return done === undefined ? output : done.then(() => output);
      },
      (error: unknown) => {
        const done = this.settle(scope, sink);
        if (done === undefined) throw error;
        return done.then(() => {
          throw error;
        });
      },
    );
  }

  /** After the call: the per-run account, then the window's (charge what was recorded beyond the reservation, or refund the rest). */
  private settle(scope: Scope | undefined, sink: CostSink | undefined): void | Promise<void> {
    if (this.run !== undefined) this.afterRun();
    if (scope === undefined || sink === undefined) return;
    closeSink(scope);
    scope.dispose();
    const reserved = this.reserved;
    // Reserved: charge the difference. Not reserved (failed open): charge the whole actual cost.
    const delta = reserved === undefined ? sink.nanos : sink.nanos - this.amount;
    if (delta === 0) {
      this.afterWindow(reserved?.spent, 0, reserved?.spent);
      return;
    }
    const spent = this.charge(delta);
    if (!isThenable<number | undefined>(spent)) {
      this.afterWindow(undefined, delta, spent);
      return;
    }
    return spent.then((value) => this.afterWindow(undefined, delta, value));
  }

  /** Charges `delta` at the reservation's time; the spend afterwards, or undefined when the store failed (reported, never thrown). */
  private charge(delta: number): number | undefined | Promise<number | undefined> {
    const policy = this.policy;
    let answer: number | PromiseLike<number>;
    try {
      answer = this.store.charge(this.storeKey, delta, policy.windowMs, this.at, policy.now());
    } catch (error) {
      policy.storeFailed(this.ctx, 'charge', { ok: false, reason: 'error', error: toError(error) });
      return undefined;
    }
    if (!isThenable<number>(answer)) return answer;
    return awaitStore(answer, { ms: policy.storeTimeoutMs, what: `Budget store for "${policy.name}"` }).then((a) => {
      if (a.ok) return a.value;
      policy.storeFailed(this.ctx, 'charge', a);
      return undefined;
    });
  }

  /** Gives the window's reservation back to `store`, best effort: it expires with the window anyway. */
  private refund(store: BudgetStore): void {
    if (this.amount === 0) return;
    const policy = this.policy;
    try {
      const answer = store.charge(this.storeKey, -this.amount, policy.windowMs, this.at, policy.now());
      if (isThenable(answer)) Promise.resolve(answer).catch(noop);
    } catch {
      // best effort
    }
  }

  private afterWindow(before: number | undefined, delta: number, spent: number | undefined): void {
    if (typeof spent !== 'number' || !listening()) return;
    const { policy, ctx, storeKey } = this;
    const prior = before ?? spent - delta;
    const partition = policy.partitionOf(storeKey);
    if (prior < policy.windowWarnAt && spent >= policy.windowWarnAt) policy.emitBudget(ctx, 'budget.warning', 'window', spent, policy.limit, partition);
    policy.emitBudget(ctx, 'budget.usage', 'window', spent, policy.limit, partition);
  }

  private afterRun(): void {
    const { policy, ctx, run } = this;
    this.releaseRun();
    const total = runTotal(ctx.run);
    if (total >= policy.runWarnAt && !run!.warned.has(policy.name)) {
      run!.warned.add(policy.name);
      if (listening()) policy.emitBudget(ctx, 'budget.warning', 'run', total, policy.perRun!);
    }
    if (listening()) policy.emitBudget(ctx, 'budget.usage', 'run', total, policy.perRun!);
  }

  /** Takes this call's estimate out of the run's reservations. */
  private releaseRun(): void {
    const run = this.run;
    if (run === undefined) return;
    const r = run.reserved.get(this.policy.name);
    if (r === undefined) return;
    if (--r.calls === 0) run.reserved.delete(this.policy.name);
    else r.nanos -= this.amount;
  }
}

/**
 * Enforces a cost budget before `primitive` runs: per run (`perRun`, against the run's cost
 * ledger) and/or over a rolling window (`window`, in a {@link BudgetStore}). When the spend so far
 * plus the call's `estimate` does not fit, or the spend already reached the limit, the call is
 * refused with a `BudgetExceededError` and `primitive` does not run.
 *
 * Window accounting: the estimate is reserved atomically before the call; when the call settles
 * (success or failure), the difference between what it actually recorded (with `recordCost()` or
 * `cost()`, inside it) and the estimate is charged or refunded. Bound: the window's spend can
 * exceed `limit` only by what calls in flight spend beyond their estimates, at most
 * `sum(max(0, actual - estimate))` over concurrent calls; with estimates at least the actual
 * cost it never exceeds the limit. Costs recorded after the call settled are not charged.
 *
 * Per-key windows: with `key`, each key has its own tally (`<name>:<key>`) under the same limit.
 *
 * Per-run accounting: the check sees every cost recorded in the run plus the estimates of
 * calls of this budget in flight; the same bound applies.
 *
 * Events: `budget.exceeded` when a call is refused; `budget.warning` when spend crosses
 * `warnAt` of a limit upwards (once per crossing: a window that drains and fills again warns
 * again; a run warns once); `budget.usage` after each call with the spend and utilisation, for a
 * gauge; `budget.store_error` when the store fails. Each carries `scope: 'run' | 'window'`.
 *
 * Store failures: a store that throws, rejects or does not answer within `storeTimeoutMs` fails
 * the call closed (a `BudgetExceededError` with `spent: NaN` and the store's error, or a
 * `TimeoutError`, as `cause`), or lets it run with `failOpen: true`, or, with `localAllowance`,
 * lets it reserve in a bounded process-local allowance until that is spent. A failure while charging
 * the actual cost after the call never fails the call. The timeout's timer is cleared when the
 * store answers.
 *
 * @example
 * ```ts
 * const chat = step('chat', callModel).cost();
 * const guarded = budget(chat, {
 *   name: 'chat',
 *   perRun: 0.5,                                          // $0.50 per run
 *   window: { limit: 20, windowMs: 86_400_000 },          // $20 per rolling day
 *   estimate: (prompt: string) => (prompt.length / 4) * 2.5e-6 + 0.01,
 * }); // or chat.budget({...})
 * try { await guarded.run(prompt) } catch (e) { if (isBudgetExceededError(e)) reply.code(402) }
 *
 * // $5 a day per API key: spend is kept as `daily:<key hash>`
 * const perKey = chat.budget({ name: 'daily', window: { limit: 5, windowMs: 86_400_000 }, key: (_prompt, ctx) => String(ctx.attributes.keyHash) });
 * ```
 */
export function budget<I, O>(primitive: Primitive<I, O>, options: BudgetOptions<I>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  const policy = new BudgetPolicy<I>(options);
  const inner = primitive.exec;
  const name = policy.name;

  const exec: Exec<I, O> = (input, ctx) => {
    if (ctx.scope.aborted) return Promise.reject(abortReasonError(ctx.scope.reason));
    let amount: number;
    let storeKey: string;
    try {
      amount = policy.estimateOf(input);
      storeKey = policy.storeKeyOf(input, ctx);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    let run: RunBudgets | undefined;
    const perRun = policy.perRun;
    if (perRun !== undefined) {
      run = runBudgets(ctx.run);
      const projected = runTotal(ctx.run) + (run.reserved.get(name)?.nanos ?? 0);
      if (!(projected < perRun && projected + amount <= perRun)) {
        if (listening()) policy.emitBudget(ctx, 'budget.exceeded', 'run', projected, perRun);
        return Promise.reject(exceeded(name, 'run', projected, perRun, amount));
      }
      const r = run.reserved.get(name);
      if (r === undefined) run.reserved.set(name, { nanos: amount, calls: 1 });
      else {
        r.nanos += amount;
        r.calls++;
      }
    }
    return new BudgetCall(policy, inner, input, ctx, storeKey, amount, run).start();
  };
  return new Primitive(primitive.name, 'budget', exec);
}

function runBudgets(run: RunState): RunBudgets {
  const bag = (run.bag ??= new Map());
  let state = bag.get(RUN_BUDGETS) as RunBudgets | undefined;
  if (state === undefined) {
    state = { reserved: new Map(), warned: new Set() };
    bag.set(RUN_BUDGETS, state);
  }
  return state;
}

/** An amount option in currency units, as nano-units; undefined when absent. */
function amount(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_AMOUNT)) fail(option, `a number >= 0 and <= ${MAX_AMOUNT}`, value);
  return toNanos(value);
}

/** The refusal, with amounts in currency units. */
function exceeded(name: string, scope: 'run' | 'window', spentNanos: number, limitNanos: number, estimateNanos: number, key?: string): BudgetExceededError {
  const spent = fromNanos(spentNanos);
  const limit = fromNanos(limitNanos);
  const where = scope === 'run' ? 'per run' : 'in its window';
  const which = key === undefined ? `Budget "${name}"` : `Budget "${name}" for key "${key}"`;
  const message =
    estimateNanos > 0
      ? `${which} exhausted ${where}: spent ${spent} of ${limit}, and this call's estimate of ${fromNanos(estimateNanos)} does not fit`
      : `${which} exhausted ${where}: spent ${spent} of ${limit}`;
  return new BudgetExceededError(name, limit, spent, message);
}

function noop(): void {}
