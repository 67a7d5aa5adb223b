import type { RunContext } from '../context/run-context.js';
import { type Ctx, currentContext } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { fromNanos, MAX_AMOUNT, toNanos } from '../internal/money.js';
import { fail, optionsObject } from '../internal/validate-options.js';
import { addToSinks } from './cost-sink.js';
import { asCtx, runLedger, type CostEntry } from './ledger.js';
import { checkTokens, defaultPriceTable, unknownModel, type PriceTable } from './price-table.js';

/**
 * What a step spent: an `amount` of money, or token counts of a `model` that the price table
 * prices. With both, `amount` is recorded and the tokens are kept for the record.
 *
 * @example
 * ```ts
 * const priced: CostUsage = { model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 350 };
 * const billed: CostUsage = { amount: 0.002 };                       // e.g. a paid API call
 * ```
 */
export interface CostUsage {
  /** The cost in money, in the price table's currency unless `currency` says otherwise. */
  readonly amount?: number;
  /** The model: required to price tokens; resolved through the price table (`gpt-4o-2024-08-06` is recorded as `gpt-4o`). */
  readonly model?: string;
  /** Input (prompt) tokens. */
  readonly inputTokens?: number;
  /** Output (completion) tokens, reasoning tokens included. */
  readonly outputTokens?: number;
  /** The currency of `amount` (ISO 4217). One run has one currency. @default the price table's currency ('USD') */
  readonly currency?: string;
}

/** Options for {@link recordCost}. */
export interface RecordCostOptions {
  /** Prices for token counts. @default defaultPriceTable */
  readonly prices?: PriceTable;
  /** The step the cost belongs to. @default the step the context belongs to */
  readonly step?: string;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,99}$/;

/**
 * Records a cost in the current run's ledger, reports it as a `cost.recorded` event, and counts
 * it against every budget wrapping the step. Call it inside a step with the step's `ctx`, or
 * without one to use `currentContext()`. Returns the recorded entry.
 *
 * Tokens of a model the price table does not know throw a `RangeError` (nothing is recorded):
 * add the model with `createPriceTable()` or record an `{ amount }`. Bad numbers throw a
 * TypeError naming the field.
 *
 * @example
 * ```ts
 * const summarise = step('summarise', async (text: string, ctx) => {
 *   const res = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [...] }, { signal: ctx.signal });
 *   recordCost(ctx, { model: res.model, inputTokens: res.usage.prompt_tokens, outputTokens: res.usage.completion_tokens });
 *   return res.choices[0].message.content;
 * });
 * ```
 */
export function recordCost(ctx: RunContext, usage: CostUsage, options?: RecordCostOptions): CostEntry;
export function recordCost(usage: CostUsage, options?: RecordCostOptions): CostEntry;
export function recordCost(a: RunContext | CostUsage, b?: CostUsage | RecordCostOptions, c?: RecordCostOptions): CostEntry {
  const explicit = isRunContext(a);
  const ctx = asCtx(explicit ? a : currentContext());
  const usage = (explicit ? b : a) as CostUsage;
  const o = optionsObject('options', explicit ? c : b, ['prices', 'step'], 'recordCost');
  const prices = o.prices === undefined ? defaultPriceTable : checkPrices(o.prices);
  let step = ctx.step;
  if (o.step !== undefined) {
    if (typeof o.step !== 'string' || o.step.length === 0 || o.step.length > 100) fail('step', 'a step name of 1-100 characters', o.step);
    step = o.step;
  }
  return record(ctx, step, usage, prices, undefined);
}

function isRunContext(value: unknown): value is RunContext {
  return typeof value === 'object' && value !== null && 'runId' in value && 'correlationId' in value;
}

/** @internal Throws a TypeError naming `prices` unless it is a price table. */
export function checkPrices(value: unknown): PriceTable {
  if (typeof value !== 'object' || value === null || typeof (value as PriceTable).cost !== 'function' || typeof (value as PriceTable).resolve !== 'function') {
    fail('prices', 'a price table from createPriceTable()', value);
  }
  return value as PriceTable;
}

/**
 * @internal Validates, prices and records one usage: ledger, budget sinks, event.
 * `defaultModel` prices tokens whose usage names no model (the `model` option of `cost()`).
 */
export function record(ctx: Ctx, step: string, usage: CostUsage, prices: PriceTable, defaultModel: string | undefined): CostEntry {
  if (typeof usage !== 'object' || usage === null) fail('usage', '{ amount } or { model, inputTokens, outputTokens }', usage);
  const { amount, inputTokens, outputTokens } = usage;
  const hasTokens = inputTokens !== undefined || outputTokens !== undefined;
  if (inputTokens !== undefined) checkTokens('inputTokens', inputTokens);
  if (outputTokens !== undefined) checkTokens('outputTokens', outputTokens);
  const rawModel = usage.model ?? defaultModel;
  if (rawModel !== undefined && typeof rawModel !== 'string') fail('model', 'a model name', rawModel);

  let value: number;
  let model: string | undefined;
  let currency = prices.currency;
  if (amount !== undefined) {
    if (typeof amount !== 'number' || !(amount >= 0 && amount <= MAX_AMOUNT)) fail('amount', `a number >= 0 and <= ${MAX_AMOUNT}`, amount);
    value = amount;
    if (usage.currency !== undefined) {
      if (typeof usage.currency !== 'string' || !/^[A-Z]{3}$/.test(usage.currency)) fail('currency', 'a three-letter ISO 4217 code such as "USD"', usage.currency);
      currency = usage.currency;
    }
    if (rawModel !== undefined) {
      model = prices.resolve(rawModel);
      if (model === undefined) {
        if (!MODEL_NAME.test(rawModel)) fail('model', 'a model name of 1-100 characters from [A-Za-z0-9_.:/@-]', rawModel);
        model = rawModel;
      }
    }
  } else if (hasTokens) {
    if (rawModel === undefined) fail('model', 'a model name to price the tokens with (or give an `amount`)', rawModel);
    model = prices.resolve(rawModel);
    if (model === undefined) throw unknownModel(rawModel, prices);
    value = prices.cost(model, inputTokens ?? 0, outputTokens ?? 0);
  } else {
    return fail('usage', 'an `amount` or token counts (`inputTokens`, `outputTokens`)', usage);
  }

  // Rounded to a nano-unit once, here; every sum after this is of integers.
  const nanos = toNanos(value);
  value = fromNanos(nanos);
  const entry: CostEntry = Object.freeze({
    step,
    ...(model === undefined ? {} : { model }),
    amount: value,
    ...(inputTokens === undefined ? {} : { inputTokens }),
    ...(outputTokens === undefined ? {} : { outputTokens }),
  });
  runLedger(ctx.run).add(entry, nanos, currency);
  addToSinks(ctx.scope, nanos);
  if (listening()) {
    emit(ctx, 'cost', { type: 'cost.recorded', step, amount: value, model, inputTokens, outputTokens, currency });
  }
  return entry;
}
