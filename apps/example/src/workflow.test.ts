import { describe, expect, it } from 'vitest';
import { isValidationError } from '@weft/core';
import { quoteOrder } from './workflow.js';

describe('example workflow', () => {
  it('quotes an order with the correlation ID it was given', async () => {
    const out = await quoteOrder.run({ id: 'o1', items: [{ sku: 'a', qty: 2, unitPrice: 5 }] }, { correlationId: 'ex-1' });
    expect(out).toEqual({ total: 14.99, subtotal: 10, shipping: 4.99, correlationId: 'ex-1' });
  });

  it('rejects an invalid order with ValidationError', async () => {
    const error = await quoteOrder.run({ id: '', items: [] }).catch((e: unknown) => e);
    expect(isValidationError(error)).toBe(true);
  });
});
