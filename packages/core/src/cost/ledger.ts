import type { RunContext } from '../context/run-context.js';
import { Ctx, currentContext, type RunState } from '../internal/ctx.js';
import { fromNanos } from '../internal/money.js';
import { fail } from '../internal/validate-options.js';

/**
 * One recorded cost.
 *
 * @example
 * ```ts
 * const entry: CostEntry = { step: 'summarise', model: 'gpt-4o', amount: 0.0075, inputTokens: 1000, outputTokens: 500 };
 * ```
 */
export interface CostEntry {
  /** The step that recorded it: the innermost step's name, or the name of the primitive wrapped by `cost()`. */
  readonly step: string;
  /** The model, as the price table names it (or as given in code with an `{ amount }`). */
  readonly model?: string;
  /** The cost, in the ledger's currency. */
  readonly amount: number;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
}

/**
 * A snapshot of the costs of one run: every entry and the sums. Frozen; later costs do not change it.
 *
 * @example
 * ```ts
 * const { total, byModel } = getLedger(ctx);
 * ```
 */
export interface CostLedger {
  /** The sum of every recorded amount. */
  readonly total: number;
  /** The currency of every amount. @default 'USD' when nothing was recorded */
  readonly currency: string;
  /** The entries in the order they were recorded; at most the first 10,000 (see `droppedEntries`). */
  readonly entries: readonly CostEntry[];
  /** Entries left out of `entries` to bound memory; the sums still include them. */
  readonly droppedEntries: number;
  /** The total per step name. */
  readonly byStep: Readonly<Record<string, number>>;
  /** The total per model, for entries that name a model. */
  readonly byModel: Readonly<Record<string, number>>;
}

/** @internal How many entries a run keeps; sums stay exact beyond it. */
export const MAX_ENTRIES = 10_000;
const DEFAULT_CURRENCY = 'USD';
const LEDGER = Symbol('weft.cost.ledger');

/** @internal The mutable ledger of one run, kept in the run's bag. Sums are integer nano-units (see internal/money.ts), so they are exact. */
export class RunLedger {
  /** The run's total, in nano-units. */
  total = 0;
  currency: string | undefined;
  readonly entries: CostEntry[] = [];
  dropped = 0;
  readonly byStep = new Map<string, number>();
  readonly byModel = new Map<string, number>();

  /** Adds `entry`, whose amount is `nanos` nano-units. */
  add(entry: CostEntry, nanos: number, currency: string): void {
    if (this.currency === undefined) this.currency = currency;
    else if (this.currency !== currency) {
      throw new RangeError(`Cannot record a cost in ${currency} in a run whose costs are in ${this.currency}: one run has one currency`);
    }
    this.total += nanos;
    if (this.entries.length < MAX_ENTRIES) this.entries.push(entry);
    else this.dropped++;
    this.byStep.set(entry.step, (this.byStep.get(entry.step) ?? 0) + nanos);
    if (entry.model !== undefined) this.byModel.set(entry.model, (this.byModel.get(entry.model) ?? 0) + nanos);
  }

  snapshot(): CostLedger {
    return Object.freeze({
      total: fromNanos(this.total),
      currency: this.currency ?? DEFAULT_CURRENCY,
      entries: Object.freeze(this.entries.slice()),
      droppedEntries: this.dropped,
      byStep: Object.freeze(inUnits(this.byStep)),
      byModel: Object.freeze(inUnits(this.byModel)),
    });
  }
}

function inUnits(sums: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, nanos] of sums) out[k] = fromNanos(nanos);
  return out;
}

const EMPTY: CostLedger = Object.freeze({
  total: 0,
  currency: DEFAULT_CURRENCY,
  entries: Object.freeze([]),
  droppedEntries: 0,
  byStep: Object.freeze({}),
  byModel: Object.freeze({}),
});

/** @internal The run's ledger, created on first use. */
export function runLedger(run: RunState): RunLedger {
  const bag = (run.bag ??= new Map());
  let ledger = bag.get(LEDGER) as RunLedger | undefined;
  if (ledger === undefined) {
    ledger = new RunLedger();
    bag.set(LEDGER, ledger);
  }
  return ledger;
}

/** @internal The run's total so far in nano-units, without creating a ledger. */
export function runTotal(run: RunState): number {
  return (run.bag?.get(LEDGER) as RunLedger | undefined)?.total ?? 0;
}

/**
 * The cost ledger of a run, from its internal state. For `Primitive.runDetailed()`.
 * A run that recorded nothing has an empty ledger (total 0, USD).
 *
 * @example
 * ```ts
 * const cost = ledgerOfRun(ctx.run);
 * ```
 */
export function ledgerOfRun(run: RunState): CostLedger {
  const ledger = run.bag?.get(LEDGER) as RunLedger | undefined;
  return ledger === undefined ? EMPTY : ledger.snapshot();
}

/**
 * A snapshot of the costs recorded so far in the run of `ctx` (the step's context argument), or
 * of the current run when called without one. Throws a TypeError outside a run.
 *
 * @example
 * ```ts
 * const report = step('report', (_: void, ctx) => {
 *   const { total, byStep } = getLedger(ctx);
 *   return `spent $${total.toFixed(4)} so far`;
 * });
 * ```
 */
export function getLedger(ctx: RunContext | undefined = currentContext()): CostLedger {
  return ledgerOfRun(asCtx(ctx).run);
}

/** @internal The internal context behind a RunContext, or a TypeError naming `ctx`. */
export function asCtx(ctx: RunContext | undefined): Ctx {
  if (!(ctx instanceof Ctx)) fail('ctx', "a step's run context (call this inside a step, or pass the step's ctx)", ctx);
  return ctx;
}
