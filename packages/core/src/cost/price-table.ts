import { fromNanos } from '../internal/money.js';
import { fail, optionalBoolean, optionsObject } from '../internal/validate-options.js';
import { DEFAULT_PRICES, PRICES_AS_OF, type ModelPrice } from './prices.js';

/**
 * Prices of models, used to turn token counts into money. Look-ups accept the ids that providers
 * answer with: an exact key first, then without a provider prefix (`openai/`, `models/`,
 * `anthropic.`), then without date or version suffixes (`-2024-08-06`, `-20241022`, `@20241022`,
 * `-0125`, `-002`, `-latest`, `-v2:0`). So `claude-3-5-sonnet-20241022` is priced as
 * `claude-3-5-sonnet`, and recorded under that name.
 *
 * @example
 * ```ts
 * defaultPriceTable.cost('gpt-4o-2024-08-06', 1_000, 500); // 0.0075 (USD)
 * ```
 */
export interface PriceTable {
  /** When the prices were taken (YYYY-MM-DD), or undefined when not stated. */
  readonly asOf: string | undefined;
  /** The currency of every price, and of every amount priced with this table. */
  readonly currency: string;
  /** The table's model names, sorted. */
  readonly models: readonly string[];
  /** The table's name for a model id, or undefined when the table has no price for it. */
  resolve(model: string): string | undefined;
  /** The price of a model id, or undefined when unknown. */
  price(model: string): ModelPrice | undefined;
  /**
   * The cost of `inputTokens` + `outputTokens` of `model`.
   * @throws RangeError when the model is unknown; TypeError when a count is not a non-negative number.
   */
  cost(model: string, inputTokens: number, outputTokens?: number): number;
}

/** Options for {@link createPriceTable}. */
export interface PriceTableOptions {
  /** Start from the built-in {@link DEFAULT_PRICES} and override or add to them. @default true */
  readonly extend?: boolean;
  /** When the prices were taken (YYYY-MM-DD). @default PRICES_AS_OF when extending, else undefined */
  readonly asOf?: string;
  /** The prices' currency (ISO 4217). Must be `USD` when extending the built-in USD prices. @default 'USD' */
  readonly currency?: string;
}

const DEFAULTS = { extend: true, asOf: PRICES_AS_OF, currency: 'USD' } as const satisfies Required<PriceTableOptions>;

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,99}$/;
const CURRENCY = /^[A-Z]{3}$/;
const PROVIDER_PREFIX = /^(?:openai|anthropic|google|vertex_ai|gemini|mistral|mistralai|models)[/.]|^[^/]+\//;
const VERSION_SUFFIX = /(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{3,4}|-latest|-v\d+(?::\d+)?)$/;
const MAX_CACHED = 1_024;

/**
 * Builds a price table: the built-in prices with `overrides` on top, or only `overrides` with
 * `{ extend: false }`. Prices are per one million tokens. Validates everything up front and
 * throws a TypeError naming the bad entry.
 *
 * Unknown models: pricing tokens of a model the table does not know throws a `RangeError` at
 * record time (a silent 0 would hide spend from budgets). Add the model here, or record an
 * `{ amount }` instead.
 *
 * @example
 * ```ts
 * const prices = createPriceTable({
 *   'gpt-4o': { input: 2, output: 8 },          // a negotiated price
 *   'my-finetune': { input: 3, output: 12 },     // a model the built-in table lacks
 * });
 * recordCost(ctx, { model: 'my-finetune', inputTokens: 1200, outputTokens: 300 }, { prices });
 * ```
 */
export function createPriceTable(overrides?: Readonly<Record<string, ModelPrice>>, options?: PriceTableOptions): PriceTable {
  const o = optionsObject('options', options, ['extend', 'asOf', 'currency'], 'createPriceTable');
  const extend = optionalBoolean('extend', o.extend) ?? DEFAULTS.extend;
  const currency = o.currency ?? DEFAULTS.currency;
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) fail('currency', 'a three-letter ISO 4217 code such as "USD"', o.currency);
  if (extend && currency !== 'USD') fail('extend', 'false when `currency` is not "USD" (the built-in prices are in USD)', o.extend);
  const asOf = o.asOf ?? (extend ? DEFAULTS.asOf : undefined);
  if (asOf !== undefined && (typeof asOf !== 'string' || asOf.length === 0 || asOf.length > 40)) fail('asOf', 'a date string such as "2025-10-01"', asOf);

  const table = new Map<string, ModelPrice>();
  if (extend) for (const [model, price] of Object.entries(DEFAULT_PRICES)) table.set(model, price);
  if (overrides !== undefined) {
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) fail('overrides', 'a record of model name to { input, output }', overrides);
    for (const [model, price] of Object.entries(overrides)) {
      if (!MODEL_NAME.test(model)) fail('overrides', 'model names of 1-100 characters from [A-Za-z0-9_.:/@-]', model);
      table.set(model, checkPrice(`overrides["${model}"]`, price));
    }
  }
  return new Table(table, asOf, currency);
}

function checkPrice(option: string, price: unknown): ModelPrice {
  if (typeof price !== 'object' || price === null) fail(option, 'a price { input, output } per 1M tokens', price);
  const { input, output } = price as Record<string, unknown>;
  if (typeof input !== 'number' || !Number.isFinite(input) || input < 0) fail(`${option}.input`, 'a finite number >= 0', input);
  if (typeof output !== 'number' || !Number.isFinite(output) || output < 0) fail(`${option}.output`, 'a finite number >= 0', output);
  return Object.freeze({ input, output });
}

class Table implements PriceTable {
  readonly models: readonly string[];
  private readonly resolved = new Map<string, string | null>();

  constructor(
    private readonly prices: ReadonlyMap<string, ModelPrice>,
    readonly asOf: string | undefined,
    readonly currency: string,
  ) {
    this.models = Object.freeze([...prices.keys()].sort());
    Object.freeze(this);
  }

  resolve(model: string): string | undefined {
    if (typeof model !== 'string') return undefined;
    if (this.prices.has(model)) return model;
    const cached = this.resolved.get(model);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.search(model);
    if (this.resolved.size < MAX_CACHED) this.resolved.set(model, found ?? null);
    return found;
  }

  price(model: string): ModelPrice | undefined {
    const name = this.resolve(model);
    return name === undefined ? undefined : this.prices.get(name);
  }

  cost(model: string, inputTokens: number, outputTokens = 0): number {
    checkTokens('inputTokens', inputTokens);
    checkTokens('outputTokens', outputTokens);
    const price = this.price(model);
    if (price === undefined) throw unknownModel(model, this);
    // Prices are per million tokens, so a token costs `price * 1000` nano-units: each product is
    // rounded to a nano-unit once and the sum is of integers (exact; see internal/money.ts).
    return fromNanos(Math.round(inputTokens * price.input * 1_000) + Math.round(outputTokens * price.output * 1_000));
  }

  private search(model: string): string | undefined {
    let id = model.replace(PROVIDER_PREFIX, '');
    if (this.prices.has(id)) return id;
    for (let i = 0; i < 3; i++) {
      const shorter = id.replace(VERSION_SUFFIX, '');
      if (shorter === id || shorter.length === 0) return undefined;
      id = shorter;
      if (this.prices.has(id)) return id;
    }
    return undefined;
  }
}

/** @internal Throws a TypeError naming `option` unless `value` is a non-negative finite number. */
export function checkTokens(option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(option, 'a finite number >= 0', value);
}

/** @internal The error for tokens of a model the table has no price for. */
export function unknownModel(model: unknown, table: PriceTable): RangeError {
  const shown = typeof model === 'string' ? JSON.stringify(model.slice(0, 100)) : String(model);
  const asOf = table.asOf === undefined ? '' : ` (prices as of ${table.asOf})`;
  return new RangeError(
    `Unknown model ${shown}: the price table has no price for it${asOf}. ` +
      `Add it with createPriceTable({ ${shown}: { input, output } }) (USD per 1M tokens) and pass it as \`prices\`, or record { amount } instead.`,
  );
}

/**
 * The built-in price table: {@link DEFAULT_PRICES}, in USD per 1M tokens, as of {@link PRICES_AS_OF}.
 *
 * @example
 * ```ts
 * defaultPriceTable.price('claude-sonnet-4-20250514'); // { input: 3, output: 15 }
 * ```
 */
export const defaultPriceTable: PriceTable = createPriceTable();
