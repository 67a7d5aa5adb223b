import { describe, expectTypeOf, it } from 'vitest';
import { step } from '../step/step.js';
import { fallback } from './fallback.js';
import type { Primitive } from '../primitive.js';
import type { RunContext } from '../context/run-context.js';

const primary = step('primary', (id: string) => ({ id, price: 1 }));
const mirror = step('mirror', (id: string) => ({ id, price: 2 }));

describe('fallback types', () => {
  it('keeps the input and output types', () => {
    expectTypeOf(primary.fallback(mirror)).toEqualTypeOf<Primitive<string, { id: string; price: number }>>();
    expectTypeOf(fallback(primary, mirror, () => ({ id: 'x', price: 0 }), { when: () => true })).toEqualTypeOf<Primitive<string, { id: string; price: number }>>();
  });

  it('types a function alternative from the primary', () => {
    primary.fallback((input, error, ctx) => {
      expectTypeOf(input).toEqualTypeOf<string>();
      expectTypeOf(error).toEqualTypeOf<Error>();
      expectTypeOf(ctx).toEqualTypeOf<RunContext>();
      return { id: input, price: 0 };
    });
  });

  it('rejects alternatives of another shape', () => {
    // @ts-expect-error the alternative returns a string, not a quote
    primary.fallback(() => 'nope');
    // @ts-expect-error the alternative takes a number
    primary.fallback(step('n', (n: number) => ({ id: String(n), price: n })));
  });
});
