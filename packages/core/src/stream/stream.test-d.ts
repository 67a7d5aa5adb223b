import { describe, expectTypeOf, it } from 'vitest';
import type { Primitive } from '../primitive.js';
import { step } from '../step/step.js';
import { pipeStream, streamStep, type StreamPrimitive, type WeftStream } from './stream.js';

const words = streamStep('words', async function* (text: string) {
  yield* text.split(' ');
});

describe('stream types', () => {
  it('types chunks through map, collect and stream()', () => {
    expectTypeOf(words).toEqualTypeOf<StreamPrimitive<string, string>>();
    expectTypeOf(words.map((w) => w.length)).toEqualTypeOf<StreamPrimitive<string, number>>();
    expectTypeOf(words.collect()).toEqualTypeOf<Primitive<string, string[]>>();
    expectTypeOf(words.collect((n: number, w) => n + w.length, 0)).toEqualTypeOf<Primitive<string, number>>();
    expectTypeOf(words.stream('a b')).toEqualTypeOf<WeftStream<string>>();
    expectTypeOf(words.retry().timeout({ idleMs: 1 }).fallback(words)).toEqualTypeOf<StreamPrimitive<string, string>>();
  });

  it('a chain feeds the stream its output type', () => {
    expectTypeOf(pipeStream(step('n', (n: number) => String(n)), words)).toEqualTypeOf<StreamPrimitive<number, string>>();
  });

  it('mismatches fail to compile', () => {
    // @ts-expect-error the prefix outputs a number; the stream wants a string
    pipeStream(step('n', (n: number) => n), words);
    // @ts-expect-error a fallback must stream the same chunks
    words.fallback(words.map((w) => w.length));
    // @ts-expect-error the input is a string
    words.stream(42);
  });
});
