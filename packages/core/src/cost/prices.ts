/**
 * The price of one model, in the price table's currency (USD for the built-in table) per one
 * million tokens.
 *
 * @example
 * ```ts
 * const price: ModelPrice = { input: 2.5, output: 10 }; // $2.50 per 1M input tokens, $10 per 1M output
 * ```
 */
export interface ModelPrice {
  /** Price per 1,000,000 input (prompt) tokens. */
  readonly input: number;
  /** Price per 1,000,000 output (completion) tokens, reasoning tokens included. */
  readonly output: number;
}

/**
 * The date the built-in prices were taken from the providers' public price lists (YYYY-MM-DD).
 * Prices change: check them, and override what differs with `createPriceTable(overrides)`.
 *
 * @example
 * ```ts
 * console.log(`prices as of ${PRICES_AS_OF}`);
 * ```
 */
export const PRICES_AS_OF = '2025-10-01';

/**
 * Built-in list prices in USD per 1M tokens for common OpenAI, Anthropic, Google and Mistral
 * models, keyed by the model's API id without a date or version suffix (`gpt-4o`, not
 * `gpt-4o-2024-08-06`; a price table resolves such suffixes). Standard tier only: no batch,
 * prompt-cache or priority discounts or surcharges; Gemini 2.5 Pro at its price for prompts of
 * up to 200k tokens. Frozen; extend or override it with `createPriceTable(overrides)`.
 *
 * @example
 * ```ts
 * DEFAULT_PRICES['gpt-4o-mini']; // { input: 0.15, output: 0.6 }
 * ```
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = deepFreeze({
  // OpenAI
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  o1: { input: 15, output: 60 },
  'o1-mini': { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  // Anthropic
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-opus': { input: 15, output: 75 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  // Google
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  'gemini-1.5-pro': { input: 1.25, output: 5 },
  'gemini-1.5-flash': { input: 0.075, output: 0.3 },
  'gemini-1.5-flash-8b': { input: 0.0375, output: 0.15 },
  // Mistral
  'mistral-large': { input: 2, output: 6 },
  'mistral-medium': { input: 0.4, output: 2 },
  'mistral-small': { input: 0.1, output: 0.3 },
  codestral: { input: 0.3, output: 0.9 },
  'pixtral-large': { input: 2, output: 6 },
  'ministral-8b': { input: 0.1, output: 0.1 },
  'ministral-3b': { input: 0.04, output: 0.04 },
  'open-mistral-nemo': { input: 0.15, output: 0.15 },
});

function deepFreeze<T extends Record<string, ModelPrice>>(table: T): Readonly<T> {
  for (const price of Object.values(table)) Object.freeze(price);
  return Object.freeze(table);
}
