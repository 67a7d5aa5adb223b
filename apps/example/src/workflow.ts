import { currentClock, parallel, sequence, step } from '@weft/core';
import { z } from 'zod';

const Order = z.object({
  id: z.string().min(1),
  items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive(), unitPrice: z.number().nonnegative() })).min(1),
});
type Order = z.input<typeof Order>;

const validate = step({ name: 'validate', input: Order }, (order) => order);

const subtotal = step('subtotal', (order: z.output<typeof Order>) => order.items.reduce((sum, i) => sum + i.qty * i.unitPrice, 0));

const shipping = step('shipping', async (order: z.output<typeof Order>, ctx) => {
  // Pretend to call a carrier (5 ms, on Weft's clock, so tests can use a test clock); honour cancellation.
  const clock = currentClock();
  await new Promise<void>((resolve, reject) => {
    const t = clock.setTimeout(resolve, 5);
    ctx.signal.addEventListener('abort', () => {
      clock.clearTimeout(t);
      reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
    }, { once: true });
  });
  return order.items.length > 2 ? 0 : 4.99;
});

const quote = step('quote', ({ subtotal, shipping }: { subtotal: number; shipping: number }, ctx) => ({
  total: Math.round((subtotal + shipping) * 100) / 100,
  subtotal,
  shipping,
  correlationId: ctx.correlationId,
}));

/** validate -> (subtotal | shipping) -> quote */
export const quoteOrder = sequence(validate, parallel({ subtotal, shipping }), quote);
