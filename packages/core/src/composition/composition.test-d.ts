import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { step } from '../step/step.js';
import { sequence } from './sequence.js';
import { parallel } from './parallel.js';
import { branch } from './branch.js';
import type { Primitive } from '../primitive.js';

const parse = step('parse', (s: string) => Number(s));
const double = step('double', (n: number) => n * 2);
const show = step('show', (n: number) => ({ text: String(n) }));

describe('types flow through chains', () => {
  it('sequence and pipe keep input and output types', () => {
    expectTypeOf(sequence(parse, double, show)).toEqualTypeOf<Primitive<string, { text: string }>>();
    expectTypeOf(parse.pipe(double).pipe(show)).toEqualTypeOf<Primitive<string, { text: string }>>();
    expectTypeOf<Parameters<typeof parse.run>[0]>().toEqualTypeOf<string>();
    expectTypeOf<ReturnType<typeof parse.run>>().toEqualTypeOf<Promise<number>>();
  });

  it('mismatched chains fail to compile', () => {
    // @ts-expect-error show outputs an object, parse wants a string
    sequence(show, parse);
    // @ts-expect-error double outputs a number, parse wants a string
    double.pipe(parse);
    // @ts-expect-error run needs a string
    void parse.run(42);
  });

  it('parallel types tuples and records', () => {
    expectTypeOf(parallel([parse, step('len', (s: string) => s.length)])).toEqualTypeOf<Primitive<string, [number, number]>>();
    expectTypeOf(parallel({ n: double, s: step('str', (n: number) => String(n)) })).toEqualTypeOf<Primitive<number, { n: number; s: string }>>();
  });

  it('branch unions its outputs', () => {
    expectTypeOf(branch((n: number) => n > 1, show, double)).toEqualTypeOf<Primitive<number, { text: string } | number>>();
  });

  it('zod schemas type the step', () => {
    const greet = step({ name: 'greet', input: z.object({ name: z.string() }), output: z.string() }, ({ name }) => `hi ${name}`);
    expectTypeOf(greet).toEqualTypeOf<Primitive<{ name: string }, string>>();
  });
});
