import { toError } from '../errors/non-error-thrown.js';
import { fail, optionalFunction, optionsObject } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';
import { llmUsage } from './llm-usage.js';
import { defaultPriceTable, type PriceTable } from './price-table.js';
import { checkPrices, record, type CostUsage } from './record-cost.js';

/** Options for {@link cost}. */
export interface CostOptions<I = unknown, O = unknown> {
  /**
   * Reads what a successful call spent from its output (and input). Return undefined to record
   * nothing for that call (a cache hit, say).
   * @default llmUsage: reads `model` and `usage` from an OpenAI, Anthropic, Google or Mistral response, and throws when it finds none
   */
  readonly extract?: (output: O, input: I) => CostUsage | undefined;
  /**
   * The model to price tokens with when the usage names none. Must be in the price table;
   * checked when the primitive is built.
   */
  readonly model?: string;
  /** Prices for token counts. @default defaultPriceTable */
  readonly prices?: PriceTable;
}

/**
 * Records what each successful call of `primitive` spent, read from its output by `extract`, in
 * the run's cost ledger under the primitive's name (and against every budget around it).
 * Failed calls record nothing here; record their cost with `recordCost()` inside the step.
 * Put it inside a budget (`step.cost().budget({...})`): a budget only counts costs recorded
 * before its call settles, so `cost(budget(...))` is refused with a TypeError.
 *
 * If `extract` throws, or returns tokens of a model the price table lacks, the call rejects with
 * that error (a `RangeError` for an unknown model), so a mispriced model is noticed at once.
 *
 * @example
 * ```ts
 * const chat = step('chat', (prompt: string, ctx) => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }, { signal: ctx.signal }));
 * const priced = cost(chat);              // reads res.model and res.usage; or chat.cost()
 * const custom = cost(search, { extract: (hits) => ({ amount: 0.005 * hits.pages }) });
 * ```
 */
export function cost<I, O>(primitive: Primitive<I, O>, options?: CostOptions<I, O>): Primitive<I, O> {
  if (!(primitive instanceof Primitive)) fail('primitive', 'a primitive', primitive);
  // The budget would settle before this records, and never see the cost.
  if (primitive.kind === 'budget') fail('primitive', 'not a budget: apply cost() inside budget(), as in step.cost().budget({...}), so the budget sees the cost', primitive.name);
  const o = optionsObject('options', options, ['extract', 'model', 'prices'], 'cost');
  const prices = o.prices === undefined ? defaultPriceTable : checkPrices(o.prices);
  const custom = optionalFunction<(output: O, input: I) => CostUsage | undefined>('extract', o.extract);
  let model: string | undefined;
  if (o.model !== undefined) {
    if (typeof o.model !== 'string') fail('model', 'a model name', o.model);
    model = prices.resolve(o.model);
    if (model === undefined) fail('model', `a model in the price table (prices as of ${prices.asOf ?? 'unknown'}; add it with createPriceTable())`, o.model);
  }
  const inner = primitive.exec;
  const name = primitive.name;

  const extract = custom ?? ((output: O): CostUsage => {
    const usage = llmUsage(output);
    if (usage === undefined) {
      throw new TypeError(`cost(): found no token usage in the output of "${name}"; pass \`extract\` to say what it cost`);
    }
    return usage;
  });

  const exec: Exec<I, O> = (input, ctx) => {
    let p: Promise<O>;
    try {
      p = inner(input, ctx);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return p.then((output) => {
      let usage: CostUsage | undefined;
      try {
        usage = extract(output, input);
      } catch (error) {
        throw toError(error);
      }
      if (usage !== undefined) record(ctx, name, usage, prices, model);
      return output;
    });
  };
  return new Primitive(name, 'cost', exec);
}
