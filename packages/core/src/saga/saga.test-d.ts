import { describe, expectTypeOf, it } from 'vitest';
import { step } from '../step/step.js';
import type { Primitive } from '../primitive.js';
import { recoverSagas, saga, type CompensationArgs } from './saga.js';

const parse = step('parse', (s: string) => Number(s));
const double = step('double', (n: number) => n * 2);
const show = step('show', (n: number) => ({ text: String(n) }));

describe('saga types', () => {
  it('types the chain like sequence', () => {
    expectTypeOf(saga([{ step: parse }, { step: double }, { step: show }])).toEqualTypeOf<Primitive<string, { text: string }>>();
    expectTypeOf(saga([{ step: parse, compensate: () => {} }])).toEqualTypeOf<Primitive<string, number>>();
    expectTypeOf(saga([{ name: 'len', step: (s: string) => s.length }, { step: double }])).toEqualTypeOf<Primitive<string, number>>();
  });

  it('gives each compensation its step input and output', () => {
    saga([
      {
        step: parse,
        compensate: (args) => {
          expectTypeOf(args.input).toEqualTypeOf<string>();
          expectTypeOf(args.idempotencyKey).toEqualTypeOf<string>();
          // The output is known only when the step completed.
          expectTypeOf(args.output).toEqualTypeOf<number | undefined>();
          if (args.outcome === 'completed') expectTypeOf(args.output).toEqualTypeOf<number>();
          else expectTypeOf(args.output).toEqualTypeOf<undefined>();
        },
      },
      {
        step: show,
        compensate: ({ input, output }) => {
          expectTypeOf(input).toEqualTypeOf<number>();
          expectTypeOf(output).toEqualTypeOf<{ text: string } | undefined>();
        },
      },
    ]);
    const undo = step('undo', (args: CompensationArgs<string, number>) => args.output);
    saga([{ step: parse, compensate: undo }]);
  });

  it('mismatched chains fail to compile', () => {
    // @ts-expect-error show outputs an object, parse wants a string
    saga([{ step: show }, { step: parse }]);
    // @ts-expect-error the compensation primitive wants a different input
    saga([{ step: double, compensate: step('undo', (args: CompensationArgs<string, number>) => args) }]);
    // @ts-expect-error a compensation that assumes the output is always there
    saga([{ step: double, compensate: step('undo', (args: { input: number; output: number }) => args) }]);
    // @ts-expect-error the id function sees the saga input
    saga([{ step: parse }], { id: (n: number) => String(n) });
  });

  it('recoverSagas takes any saga and reports recoveries', () => {
    expectTypeOf(recoverSagas(saga([{ step: parse }]))).resolves.toBeArray();
    expectTypeOf(saga.recover).toEqualTypeOf(recoverSagas);
  });
});
