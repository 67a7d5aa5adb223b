import { addMethod } from '../primitive.js';
import { cost as costPrimitive, type CostOptions } from './cost.js';
import { budget as budgetPrimitive, type BudgetOptions } from './budget.js';

declare module '../primitive.js' {
  interface Primitive<in I, out O> {
    /** Records what each successful call spent; see {@link cost}. Added by `@weft/core/cost`. */
    cost(options?: CostOptions<I, O>): Primitive<I, O>;
    /** Enforces a cost budget before each call; put it outside `.cost()`. See {@link budget}. Added by `@weft/core/cost`. */
    budget(options: BudgetOptions<I>): Primitive<I, O>;
  }
}

addMethod('cost', costPrimitive);
addMethod('budget', budgetPrimitive);

export { recordCost } from './record-cost.js';
export type { CostUsage, RecordCostOptions } from './record-cost.js';
export { cost } from './cost.js';
export type { CostOptions } from './cost.js';
export { llmUsage } from './llm-usage.js';
export { getLedger } from './ledger.js';
export type { CostLedger, CostEntry } from './ledger.js';
export { createPriceTable, defaultPriceTable } from './price-table.js';
export type { PriceTable, PriceTableOptions } from './price-table.js';
export { DEFAULT_PRICES, PRICES_AS_OF } from './prices.js';
export type { ModelPrice } from './prices.js';
export { budget } from './budget.js';
export type { BudgetOptions, BudgetWindow } from './budget.js';
export type { BudgetStore, BudgetCharge } from './budget-store.js';
export { LocalBudgetStore } from './local-budget-store.js';
export type { LocalBudgetStoreOptions } from './local-budget-store.js';
