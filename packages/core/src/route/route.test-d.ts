import { describe, expectTypeOf, it } from 'vitest';
import { step } from '../step/step.js';
import type { Primitive } from '../primitive.js';
import { byCost, byWeight, route } from './route.js';

const a = step('a', (n: number) => n + 1);
const b = step('b', (n: number) => n * 2);
const text = step('text', (n: number) => String(n));

describe('route types', () => {
  it('keeps the routes input and output types', () => {
    expectTypeOf(route(() => 'a' as const, { a, b })).toEqualTypeOf<Primitive<number, number>>();
    expectTypeOf(route((n: number) => (n > 1 ? 'a' : 'b'), { a, b })).toEqualTypeOf<Primitive<number, number>>();
    expectTypeOf(route(byWeight({ a: 1, b: 1 }), { a, b })).toEqualTypeOf<Primitive<number, number>>();
    expectTypeOf(route.weighted({ a: [a, 90], b: [b, 10] })).toEqualTypeOf<Primitive<number, number>>();
    expectTypeOf(route.cheapest({ a: [a, { cost: 1 }], b: [b, { cost: 2 }] })).toEqualTypeOf<Primitive<number, number>>();
  });

  it('the selector sees the input and may return only route keys', () => {
    route((n) => {
      expectTypeOf(n).toEqualTypeOf<number>();
      return 'a';
    }, { a, b });
    // @ts-expect-error 'c' is not a route
    route((n: number) => (n > 1 ? 'a' : 'c'), { a, b });
    // @ts-expect-error the default must be a route key
    route(() => 'a' as const, { a, b }, { default: 'c' });
    // @ts-expect-error the strategy names a route that does not exist
    route(byWeight({ a: 1, c: 1 }), { a, b });
    // @ts-expect-error byCost names a route that does not exist
    route(byCost({ z: { cost: 1 } }), { a, b });
  });

  it('routes must share input and output types', () => {
    // @ts-expect-error text returns a string, a returns a number
    route(() => 'a' as const, { a, text });
  });
});
