import { describe, expect, it } from 'vitest';
import { createPriceTable, defaultPriceTable } from './price-table.js';
import { DEFAULT_PRICES, PRICES_AS_OF } from './prices.js';

describe('price table', () => {
  it('prices tokens per million from the built-in table', () => {
    expect(defaultPriceTable.cost('gpt-4o', 1_000_000, 0)).toBe(2.5);
    expect(defaultPriceTable.cost('gpt-4o', 1_000, 500)).toBeCloseTo(0.0025 + 0.005, 12);
    expect(defaultPriceTable.cost('claude-sonnet-4', 2_000, 1_000)).toBeCloseTo(0.006 + 0.015, 12);
    expect(defaultPriceTable.cost('gemini-2.5-flash', 0, 1_000_000)).toBe(2.5);
    expect(defaultPriceTable.cost('mistral-small', 1_000_000)).toBeCloseTo(0.1, 12);
    expect(defaultPriceTable.asOf).toBe(PRICES_AS_OF);
    expect(defaultPriceTable.currency).toBe('USD');
  });

  it('ships a frozen table covering OpenAI, Anthropic, Google and Mistral', () => {
    expect(Object.isFrozen(DEFAULT_PRICES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_PRICES['gpt-4o'])).toBe(true);
    expect(() => {
      (DEFAULT_PRICES as Record<string, unknown>)['gpt-4o'] = { input: 0, output: 0 };
    }).toThrow(TypeError);
    for (const prefix of ['gpt-', 'claude-', 'gemini-', 'mistral-']) {
      expect(defaultPriceTable.models.some((m) => m.startsWith(prefix))).toBe(true);
    }
    for (const price of Object.values(DEFAULT_PRICES)) {
      expect(price.input).toBeGreaterThan(0);
      expect(price.output).toBeGreaterThanOrEqual(price.input);
    }
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('resolves dated snapshots, provider prefixes and version suffixes to the table name', () => {
    const cases: Array<[string, string]> = [
      ['gpt-4o-2024-08-06', 'gpt-4o'],
      ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
      ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
      ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
      ['claude-3-7-sonnet-latest', 'claude-3-7-sonnet'],
      ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet'],
      ['claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet'],
      ['openai/gpt-4.1-mini', 'gpt-4.1-mini'],
      ['models/gemini-1.5-pro-002', 'gemini-1.5-pro'],
      ['mistral-large-latest', 'mistral-large'],
      ['mistral-large-2411', 'mistral-large'],
      ['gpt-3.5-turbo-0125', 'gpt-3.5-turbo'],
      ['o1', 'o1'],
    ];
    for (const [id, name] of cases) expect(defaultPriceTable.resolve(id), id).toBe(name);
  });

  it('does not guess a price for a different model that shares a prefix', () => {
    expect(defaultPriceTable.resolve('gpt-4o-audio-preview')).toBeUndefined();
    expect(defaultPriceTable.resolve('claude-opus-4-5')).toBeUndefined();
    expect(defaultPriceTable.resolve('gpt-5-pro')).toBeUndefined();
    expect(defaultPriceTable.price('no-such-model')).toBeUndefined();
  });

  it('throws a clear RangeError when pricing tokens of an unknown model', () => {
    expect(() => defaultPriceTable.cost('my-finetune', 10, 10)).toThrow(RangeError);
    expect(() => defaultPriceTable.cost('my-finetune', 10, 10)).toThrow(/Unknown model "my-finetune".*createPriceTable/);
  });

  it('overrides and extends the built-in prices', () => {
    const prices = createPriceTable({ 'gpt-4o': { input: 2, output: 8 }, 'my-finetune': { input: 3, output: 12 } });
    expect(prices.cost('gpt-4o', 1_000_000, 1_000_000)).toBe(10);
    expect(prices.cost('gpt-4o-2024-08-06', 1_000_000, 0)).toBe(2);
    expect(prices.cost('my-finetune', 1_000_000, 1_000_000)).toBe(15);
    expect(prices.cost('claude-3-haiku', 1_000_000, 0)).toBe(0.25);
    // the default table is untouched
    expect(defaultPriceTable.cost('gpt-4o', 1_000_000, 0)).toBe(2.5);
    expect(defaultPriceTable.resolve('my-finetune')).toBeUndefined();
  });

  it('builds a table of only the given prices, in another currency, with extend: false', () => {
    const eur = createPriceTable({ 'local-llm': { input: 1, output: 1 } }, { extend: false, currency: 'EUR', asOf: '2025-09-01' });
    expect(eur.models).toEqual(['local-llm']);
    expect(eur.currency).toBe('EUR');
    expect(eur.asOf).toBe('2025-09-01');
    expect(eur.resolve('gpt-4o')).toBeUndefined();
    expect(createPriceTable({}, { extend: false }).asOf).toBeUndefined();
  });

  it('throws TypeErrors naming the bad option', () => {
    expect(() => createPriceTable({ x: { input: -1, output: 1 } })).toThrow(/`overrides\["x"\]\.input`/);
    expect(() => createPriceTable({ x: { input: 1, output: Number.NaN } })).toThrow(/`overrides\["x"\]\.output`/);
    expect(() => createPriceTable({ x: 5 as never })).toThrow(/`overrides\["x"\]`/);
    expect(() => createPriceTable({ 'bad name': { input: 1, output: 1 } })).toThrow(/`overrides`/);
    expect(() => createPriceTable([] as never)).toThrow(/`overrides`/);
    expect(() => createPriceTable({}, { currency: 'euro' })).toThrow(/`currency`/);
    expect(() => createPriceTable({}, { currency: 'EUR' })).toThrow(/`extend`/);
    expect(() => createPriceTable({}, { extend: 'yes' as never })).toThrow(/`extend`/);
    expect(() => defaultPriceTable.cost('gpt-4o', -5)).toThrow(/`inputTokens`/);
    expect(() => defaultPriceTable.cost('gpt-4o', 5, Infinity)).toThrow(/`outputTokens`/);
  });
});
