import { WeftError, brandOf } from './weft-error.js';

/**
 * A cost budget is exhausted; the step did not run.
 *
 * @example
 * ```ts
 * catch (e) { if (isBudgetExceededError(e)) reply.code(402) }
 * ```
 */
export class BudgetExceededError extends WeftError {
  override name = 'BudgetExceededError';
  constructor(
    readonly budget: string,
    readonly limit: number,
    readonly spent: number,
    message = `Budget "${budget}" exhausted: spent ${spent} of ${limit}`,
  ) {
    super(message, { code: 'BUDGET_EXCEEDED' });
  }
}

/** True when the value is a {@link BudgetExceededError} from any copy of Weft. */
export function isBudgetExceededError(value: unknown): value is BudgetExceededError {
  return brandOf(value) === 'BUDGET_EXCEEDED';
}
