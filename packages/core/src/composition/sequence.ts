import { fail } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';

/**
 * Runs primitives one after another, each taking the previous one's output. A chain whose output
 * does not fit the next input fails to compile.
 *
 * @example
 * ```ts
 * const flow = sequence(parse, enrich, save); // Primitive<string, SavedRecord>
 * ```
 */
export function sequence<A, B>(a: Primitive<A, B>): Primitive<A, B>;
export function sequence<A, B, C>(a: Primitive<A, B>, b: Primitive<B, C>): Primitive<A, C>;
export function sequence<A, B, C, D>(a: Primitive<A, B>, b: Primitive<B, C>, c: Primitive<C, D>): Primitive<A, D>;
export function sequence<A, B, C, D, E>(a: Primitive<A, B>, b: Primitive<B, C>, c: Primitive<C, D>, d: Primitive<D, E>): Primitive<A, E>;
export function sequence<A, B, C, D, E, F>(a: Primitive<A, B>, b: Primitive<B, C>, c: Primitive<C, D>, d: Primitive<D, E>, e: Primitive<E, F>): Primitive<A, F>;
export function sequence<A, B, C, D, E, F, G>(
  a: Primitive<A, B>,
  b: Primitive<B, C>,
  c: Primitive<C, D>,
  d: Primitive<D, E>,
  e: Primitive<E, F>,
  f: Primitive<F, G>,
): Primitive<A, G>;
export function sequence<A, B, C, D, E, F, G, H>(
  a: Primitive<A, B>,
  b: Primitive<B, C>,
  c: Primitive<C, D>,
  d: Primitive<D, E>,
  e: Primitive<E, F>,
  f: Primitive<F, G>,
  g: Primitive<G, H>,
): Primitive<A, H>;
export function sequence<A, B, C, D, E, F, G, H, J>(
  a: Primitive<A, B>,
  b: Primitive<B, C>,
  c: Primitive<C, D>,
  d: Primitive<D, E>,
  e: Primitive<E, F>,
  f: Primitive<F, G>,
  g: Primitive<G, H>,
  h: Primitive<H, J>,
): Primitive<A, J>;
/** Typed up to eight steps; nest sequences for longer chains so every link stays checked. */
export function sequence(...steps: Primitive<unknown, unknown>[]): Primitive<unknown, unknown>;
export function sequence(...steps: Primitive<unknown, unknown>[]): Primitive<unknown, unknown> {
  if (steps.length === 0) fail('steps', 'at least one primitive', steps);
  steps.forEach((s, i) => {
    if (!(s instanceof Primitive)) fail(`steps[${i}]`, 'a primitive', s);
  });
  const execs: Exec<unknown, unknown>[] = steps.map((s) => s.exec);
  const name = steps.map((s) => s.name).join('>').slice(0, 100);
  if (execs.length === 1) return new Primitive(name, 'sequence', execs[0]!);
  return new Primitive(name, 'sequence', async (input, ctx) => {
    let value = input;
    for (let i = 0; i < execs.length; i++) {
      ctx.throwIfAborted();
      value = await execs[i]!(value, ctx);
    }
    return value;
  });
}
