import { AbortedError } from '../errors/aborted-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { Scope } from '../internal/scope.js';
import { fail, optionalNumber, optionsObject, primitiveName } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';

/** Options for {@link parallel}. */
export interface ParallelOptions {
  /** The name for spans, events and metrics. @default the branch names joined with `|` */
  readonly name?: string;
  /** How many branches may run at once. @default Infinity */
  readonly concurrency?: number;
}

type ArrayOutputs<T extends readonly Primitive<never, unknown>[]> = { -readonly [K in keyof T]: T[K] extends Primitive<never, infer O> ? O : never };
type RecordOutputs<T extends Record<string, Primitive<never, unknown>>> = { -readonly [K in keyof T]: T[K] extends Primitive<never, infer O> ? O : never };
type InputOf<P> = P extends Primitive<infer I, unknown> ? I : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer R) => void ? R : never;
type CommonInput<T> = UnionToIntersection<InputOf<T>>;

/**
 * Runs branches on the same input at once and collects their outputs, as a tuple or a record.
 * Fails fast: the first failure aborts the other branches' signals and rejects with that error.
 *
 * @example
 * ```ts
 * const both = parallel({ user: fetchUser, orders: fetchOrders }); // Primitive<string, { user: User; orders: Order[] }>
 * const three = parallel([a, b, c], { concurrency: 2 });
 * ```
 */
export function parallel<const T extends readonly Primitive<never, unknown>[]>(
  branches: T,
  options?: ParallelOptions,
): Primitive<CommonInput<T[number]>, ArrayOutputs<T>>;
export function parallel<T extends Record<string, Primitive<never, unknown>>>(
  branches: T,
  options?: ParallelOptions,
): Primitive<CommonInput<T[keyof T]>, RecordOutputs<T>>;
export function parallel(
  branches: readonly Primitive<unknown, unknown>[] | Record<string, Primitive<unknown, unknown>>,
  options?: ParallelOptions,
): Primitive<unknown, unknown> {
  const o = optionsObject('options', options, ['name', 'concurrency'], 'parallel');
  const concurrency = optionalNumber('concurrency', o.concurrency, { min: 1, integer: true, finite: false }) ?? Infinity;
  if (typeof branches !== 'object' || branches === null) fail('branches', 'an array or a record of primitives', branches);
  const isArray = Array.isArray(branches);
  const keys = isArray ? branches.map((_, i) => i) : Object.keys(branches);
  const list = (isArray ? branches : Object.values(branches)) as Primitive<unknown, unknown>[];
  list.forEach((p, i) => {
    if (!(p instanceof Primitive)) fail(`branches[${String(keys[i])}]`, 'a primitive', p);
  });
  const execs = list.map((p) => p.exec);
  const name = o.name === undefined ? list.map((p) => p.name).join('|').slice(0, 100) || 'parallel' : primitiveName('name', o.name);

  const exec: Exec<unknown, unknown> = (input, ctx) => {
    const results = runAll(execs, input, ctx, concurrency);
    if (isArray) return results;
    return results.then((values) => {
      const out: Record<string, unknown> = {};
      keys.forEach((k, i) => {
        out[k as string] = values[i];
      });
      return out;
    });
  };
  return new Primitive(name, 'parallel', exec);
}

function runAll(execs: Exec<unknown, unknown>[], input: unknown, ctx: Ctx, concurrency: number): Promise<unknown[]> {
  if (ctx.scope.aborted) return Promise.reject(abortReasonError(ctx.scope.reason));
  const n = execs.length;
  if (n === 0) return Promise.resolve([]);
  return new Promise<unknown[]>((resolve, reject) => {
    const results = new Array<unknown>(n);
    const scopes: Scope[] = [];
    let next = 0;
    let done = 0;
    let failed = false;

    const settle = (): void => {
      for (const s of scopes) s.dispose();
    };
    const onFailure = (error: unknown): void => {
      if (failed) return;
      failed = true;
      const reason = new AbortedError(error, 'A sibling branch failed', 'sibling');
      for (const s of scopes) s.abort(reason);
      settle();
      reject(toError(error));
    };
    const start = (): void => {
      const i = next++;
      const scope = new Scope(ctx.scope);
      scopes.push(scope);
      let p: Promise<unknown>;
      try {
        p = execs[i]!(input, ctx.with({ scope }));
      } catch (error) {
        p = Promise.reject(error);
      }
      p.then(
        (value) => {
          if (failed) return;
          results[i] = value;
          done++;
          if (done === n) {
            settle();
            resolve(results);
          } else if (next < n) start();
        },
        onFailure,
      );
    };
    const initial = Math.min(n, concurrency);
    for (let k = 0; k < initial; k++) start();
  });
}
