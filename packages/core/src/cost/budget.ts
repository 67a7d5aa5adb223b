import { nodeCrypto } from '../internal/crypto.js';
import type { RunContext } from '../context/run-context.js';
import { BudgetExceededError } from '../errors/budget-exceeded-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { abortReasonError, type Ctx, type RunState } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { isThenable } from '../internal/is-thenable.js';
import { Scope } from '../internal/scope.js';
import { fail, number, optionalBoolean, optionalFunction, optionalNumber, optionsObject, primitiveName } from '../internal/validate-options.js';
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
}

const DEFAULTS = { estimate: 0, warnAt: 0.8, storeTimeoutMs: 1_000, failOpen: false } as const satisfies Required<
  Omit<BudgetOptions, 'name' | 'perRun' | 'window' | 'store' | 'key'>
>;

/** The longest key `key()` may return. */
const MAX_KEY_LENGTH = 200;

let sharedStore: LocalBudgetStore | undefined;
const RUN_BUDGETS = Symbol('weft.budget.run');

/** Per-run state of per-run budgets, keyed by budget name. */
interface RunBudgets {
  /** Estimates of calls in flight, so concurrent calls cannot all pass the same check. */
  readonly reserved: Map<string, { amount: number; calls: number }>;
  /** Budgets whose warning has fired in this run (a run's spend only grows, so once is enough). */
  readonly warned: Set<string>;
}

/** Distinguishes a failed store from an abort of the call while waiting for it. */
class StoreFailure {
  constructor(
    readonly reason: 'error' | 'timeout',
    readonly error: Error,
  ) {}
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
 * `TimeoutError`, as `cause`), or lets it run with `failOpen: true`. A failure while charging
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
  if (typeof options !== 'object' || options === null) fail('options', 'an options object with `name` and `perRun` or `window`', options);
  const o = optionsObject('options', options);
  const name = primitiveName('name', o.name);
  const perRun = optionalNumber('perRun', o.perRun, { min: 0 });
  if (perRun !== undefined && perRun <= 0) fail('perRun', 'a number > 0', perRun);
  let limit = 0;
  let windowMs = 0;
  const hasWindow = o.window !== undefined;
  if (hasWindow) {
    const w = optionsObject('window', o.window);
    limit = optionalNumber('window.limit', w.limit, { min: 0 }) ?? fail('window.limit', 'a number > 0', w.limit);
    if (limit <= 0) fail('window.limit', 'a number > 0', limit);
    windowMs = optionalNumber('window.windowMs', w.windowMs, { min: 1, integer: true }) ?? fail('window.windowMs', 'an integer >= 1', w.windowMs);
  }
  if (perRun === undefined && !hasWindow) fail('perRun', 'a number > 0 (or give `window`): a budget needs a limit', o.perRun);
  let estimateFn: ((input: I) => number) | undefined;
  let estimateValue: number = DEFAULTS.estimate;
  if (typeof o.estimate === 'function') estimateFn = o.estimate as (input: I) => number;
  else estimateValue = number('estimate', o.estimate, DEFAULTS.estimate, { min: 0 });
  const warnAt = number('warnAt', o.warnAt, DEFAULTS.warnAt, { min: 0, max: 1 });
  if (warnAt === 0) fail('warnAt', 'a number > 0 and <= 1', warnAt);
  const storeTimeoutMs = number('storeTimeoutMs', o.storeTimeoutMs, DEFAULTS.storeTimeoutMs, { min: 1, max: 2_147_483_647 });
  const failOpen = optionalBoolean('failOpen', o.failOpen) ?? DEFAULTS.failOpen;
  let store: BudgetStore | undefined;
  if (hasWindow) {
    if (o.store === undefined) store = sharedStore ??= new LocalBudgetStore();
    else {
      const s = o.store as BudgetStore;
      if (typeof s !== 'object' || s === null || typeof s.tryCharge !== 'function' || typeof s.charge !== 'function') {
        fail('store', 'a BudgetStore with tryCharge() and charge()', o.store);
      }
      store = s;
    }
  } else if (o.store !== undefined) {
    fail('window', 'a rolling window { limit, windowMs } when `store` is given', o.window);
  }
  const keyFn = optionalFunction<(input: I, ctx: RunContext) => string>('key', o.key);
  if (keyFn !== undefined && !hasWindow) fail('window', 'a rolling window { limit, windowMs } when `key` is given', o.window);
  const inner = primitive.exec;
  const runWarnAt = perRun === undefined ? 0 : warnAt * perRun;
  const windowWarnAt = warnAt * limit;

  const estimateOf = (input: I): number => {
    if (estimateFn === undefined) return estimateValue;
    const value = estimateFn(input);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail('estimate', 'a function returning a finite number >= 0', value);
    return value;
  };

  const keyOf = (input: I, ctx: Ctx): string => {
    const value = keyFn!(input, ctx);
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) fail('key', `a function returning a string of 1-${MAX_KEY_LENGTH} characters`, value);
    return value;
  };

  const storeFailed = (ctx: Ctx, operation: 'reserve' | 'charge', failure: StoreFailure): void => {
    if (listening()) emit(ctx, 'budget', { type: 'budget.store_error', budget: name, failOpen, operation, reason: failure.reason, error: failure.error });
  };

  /** Waits for the store's answer, bounded by `storeTimeoutMs` and the call's scope; nothing outlives it. */
  const awaitStore = <T>(answer: PromiseLike<T>, scope: Scope | undefined, late: ((value: T) => void) | undefined): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        off?.();
        reject(new StoreFailure('timeout', new TimeoutError(storeTimeoutMs, `Budget store for "${name}" did not answer within ${storeTimeoutMs} ms`)));
      }, storeTimeoutMs);
      const off = scope?.onAbort((reason) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(abortReasonError(reason));
      });
      answer.then(
        (value) => {
          if (settled) {
            late?.(value);
            return;
          }
          settled = true;
          clearTimeout(timer);
          off?.();
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          off?.();
          reject(new StoreFailure('error', toError(error)));
        },
      );
    });

  /** Charges the difference between actual and reserved; resolves to the spend afterwards, or undefined when unknown. */
  const reconcile = (ctx: Ctx, storeKey: string, delta: number, at: number): number | undefined | Promise<number | undefined> => {
    const now = Date.now();
    let answer: number | PromiseLike<number>;
    try {
      answer = store!.charge(storeKey, delta, windowMs, at, now);
    } catch (error) {
      storeFailed(ctx, 'charge', new StoreFailure('error', toError(error)));
      return undefined;
    }
    if (!isThenable<number>(answer)) return answer;
    return awaitStore(answer, undefined, undefined).then(
      (spent) => spent,
      (failure: StoreFailure) => {
        storeFailed(ctx, 'charge', failure);
        return undefined;
      },
    );
  };

  const afterWindow = (ctx: Ctx, storeKey: string, before: number | undefined, delta: number, spent: number | undefined): void => {
    if (spent === undefined || typeof spent !== 'number' || !listening()) return;
    const prior = before ?? spent - delta;
    const partition = partitionOf(storeKey);
    if (prior < windowWarnAt && spent >= windowWarnAt) emitBudget(ctx, 'budget.warning', 'window', spent, limit, partition);
    emitBudget(ctx, 'budget.usage', 'window', spent, limit, partition);
  };

  /** A keyed budget's partition, hashed: it identifies the key to telemetry without revealing it. */
  const partitionOf = (storeKey: string): string | undefined =>
    storeKey === name ? undefined : nodeCrypto().createHash('sha256').update(storeKey).digest('base64url').slice(0, 16);

  const reserve = (run: RunBudgets, amount: number): void => {
    const r = run.reserved.get(name);
    if (r === undefined) run.reserved.set(name, { amount, calls: 1 });
    else {
      r.amount += amount;
      r.calls++;
    }
  };
  const release = (run: RunBudgets, amount: number): void => {
    const r = run.reserved.get(name);
    if (r === undefined) return;
    // Deleting at the last call keeps float residue from building up.
    if (--r.calls === 0) run.reserved.delete(name);
    else r.amount -= amount;
  };

  const afterRun = (ctx: Ctx, run: RunBudgets, amount: number): void => {
    release(run, amount);
    const total = runTotal(ctx.run);
    if (total >= runWarnAt && !run.warned.has(name)) {
      run.warned.add(name);
      if (listening()) emitBudget(ctx, 'budget.warning', 'run', total, perRun!);
    }
    if (listening()) emitBudget(ctx, 'budget.usage', 'run', total, perRun!);
  };

  const emitBudget = (ctx: Ctx, type: 'budget.warning' | 'budget.exceeded' | 'budget.usage', scope: 'run' | 'window', spent: number, max: number, partition?: string): void => {
    emit(ctx, 'budget', { type, budget: name, scope, spent, limit: max, utilisation: spent / max, partition });
  };

  /** Runs the call, then settles the per-run reservation and the window's accounts. */
  const call = (input: I, ctx: Ctx, storeKey: string, amount: number, run: RunBudgets | undefined, reserved: BudgetCharge | undefined, at: number): Promise<O> => {
    let scope: Scope | undefined;
    let sink: CostSink | undefined;
    let inner$: Promise<O>;
    try {
      if (hasWindow) {
        scope = new Scope(ctx.scope);
        sink = openSink(scope);
        inner$ = inner(input, ctx.with({ scope }));
      } else {
        inner$ = inner(input, ctx);
      }
    } catch (error) {
      inner$ = Promise.reject(toError(error));
    }
    const settle = (): void | Promise<void> => {
      if (run !== undefined) afterRun(ctx, run, amount);
      if (scope === undefined || sink === undefined) return;
      closeSink(scope);
      scope.dispose();
      // Reserved: charge the difference. Not reserved (failed open): charge the whole actual cost.
      const delta = reserved === undefined ? sink.amount : sink.amount - amount;
      if (delta === 0) {
        afterWindow(ctx, storeKey, reserved?.spent, 0, reserved?.spent);
        return;
      }
      const spent = reconcile(ctx, storeKey, delta, at);
      if (!isThenable<number | undefined>(spent)) {
        afterWindow(ctx, storeKey, undefined, delta, spent);
        return;
      }
      return spent.then((value) => afterWindow(ctx, storeKey, undefined, delta, value));
    };
    return inner$.then(
      (output) => {
        const done = settle();
        return done === undefined ? output : done.then(() => output);
      },
      (error: unknown) => {
        const done = settle();
        if (done === undefined) throw error;
        return done.then(() => {
          throw error;
        });
      },
    );
  };

  /** The window's reservation answered. */
  const reservedWindow = (input: I, ctx: Ctx, storeKey: string, amount: number, run: RunBudgets | undefined, at: number, answer: BudgetCharge): Promise<O> => {
    if (typeof answer !== 'object' || answer === null || typeof answer.allowed !== 'boolean' || typeof answer.spent !== 'number') {
      return storeDown(input, ctx, storeKey, amount, run, at, new StoreFailure('error', new TypeError(`Budget store for "${name}" answered ${String(answer)}, not { allowed, spent }`)));
    }
    if (!answer.allowed) {
      if (run !== undefined) release(run, amount);
      if (listening()) emitBudget(ctx, 'budget.exceeded', 'window', answer.spent, limit, partitionOf(storeKey));
      const key = storeKey === name ? undefined : storeKey.slice(name.length + 1);
      return Promise.reject(new BudgetExceededError(name, limit, answer.spent, exhausted(name, 'window', answer.spent, limit, amount, key)));
    }
    if (listening() && answer.spent - amount < windowWarnAt && answer.spent >= windowWarnAt) emitBudget(ctx, 'budget.warning', 'window', answer.spent, limit, partitionOf(storeKey));
    if (ctx.scope.aborted) {
      // Aborted while the store answered: give the reservation back.
      refund(storeKey, amount, at);
      if (run !== undefined) release(run, amount);
      return Promise.reject(abortReasonError(ctx.scope.reason));
    }
    return call(input, ctx, storeKey, amount, run, answer, at);
  };

  const storeDown = (input: I, ctx: Ctx, storeKey: string, amount: number, run: RunBudgets | undefined, at: number, failure: StoreFailure): Promise<O> => {
    storeFailed(ctx, 'reserve', failure);
    if (failOpen) return call(input, ctx, storeKey, amount, run, undefined, at);
    if (run !== undefined) release(run, amount);
    const error = new BudgetExceededError(
      name,
      limit,
      Number.NaN,
      `Budget "${name}" could not be checked: its store ${failure.reason === 'timeout' ? `did not answer within ${storeTimeoutMs} ms` : `failed (${failure.error.message})`}; the call was refused (failOpen: false)`,
    );
    Object.defineProperty(error, 'cause', { value: failure.error, writable: true, configurable: true, enumerable: false });
    return Promise.reject(error);
  };

  const refund = (storeKey: string, amount: number, at: number): void => {
    if (amount === 0) return;
    try {
      const answer = store!.charge(storeKey, -amount, windowMs, at, Date.now());
      if (isThenable(answer)) Promise.resolve(answer).catch(noop);
    } catch {
      // best effort: the reservation expires with the window anyway
    }
  };

  const exec: Exec<I, O> = (input, ctx) => {
    if (ctx.scope.aborted) return Promise.reject(abortReasonError(ctx.scope.reason));
    let amount: number;
    let storeKey = name;
    try {
      amount = estimateOf(input);
      if (keyFn !== undefined) storeKey = `${name}:${keyOf(input, ctx)}`;
    } catch (error) {
      return Promise.reject(toError(error));
    }

    let run: RunBudgets | undefined;
    if (perRun !== undefined) {
      run = runBudgets(ctx.run);
      const projected = runTotal(ctx.run) + (run.reserved.get(name)?.amount ?? 0);
      if (!(projected < perRun && projected + amount <= perRun)) {
        if (listening()) emitBudget(ctx, 'budget.exceeded', 'run', projected, perRun);
        return Promise.reject(new BudgetExceededError(name, perRun, projected, exhausted(name, 'run', projected, perRun, amount)));
      }
      reserve(run, amount);
    }
    if (!hasWindow) return call(input, ctx, name, amount, run, undefined, 0);

    const at = Date.now();
    let answer: BudgetCharge | PromiseLike<BudgetCharge>;
    try {
      answer = store!.tryCharge(storeKey, amount, limit, windowMs, at);
    } catch (error) {
      return storeDown(input, ctx, storeKey, amount, run, at, new StoreFailure('error', toError(error)));
    }
    if (!isThenable<BudgetCharge>(answer)) return reservedWindow(input, ctx, storeKey, amount, run, at, answer);
    const late = (value: BudgetCharge): void => {
      if (value?.allowed) refund(storeKey, amount, at);
    };
    return awaitStore(answer, ctx.scope, late).then(
      (value) => reservedWindow(input, ctx, storeKey, amount, run, at, value),
      (thrown: unknown) => {
        if (thrown instanceof StoreFailure) return storeDown(input, ctx, storeKey, amount, run, at, thrown);
        if (run !== undefined) release(run, amount);
        throw thrown;
      },
    );
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

function exhausted(name: string, scope: 'run' | 'window', spent: number, limit: number, estimate: number, key?: string): string {
  const where = scope === 'run' ? 'per run' : 'in its window';
  const which = key === undefined ? `Budget "${name}"` : `Budget "${name}" for key "${key}"`;
  return estimate > 0
    ? `${which} exhausted ${where}: spent ${spent} of ${limit}, and this call's estimate of ${estimate} does not fit`
    : `${which} exhausted ${where}: spent ${spent} of ${limit}`;
}

function noop(): void {}
