import type { RunContext } from '../context/run-context.js';
import { fail } from '../internal/validate-options.js';
import { isThenable } from '../internal/is-thenable.js';
import { Primitive, type Exec } from '../primitive.js';

/** Chooses a branch. May be async; sees the input and the run's context. */
export type BranchPredicate<I> = (input: I, ctx: RunContext) => boolean | Promise<boolean>;

/**
 * Runs `then` when the predicate holds, otherwise `otherwise`, or passes the input through when
 * there is no `otherwise`.
 *
 * @example
 * ```ts
 * const priced = branch((o: Order) => o.total > 100, applyDiscount, identity);
 * ```
 */
export function branch<I, O>(predicate: BranchPredicate<I>, then: Primitive<I, O>): Primitive<I, O | I>;
export function branch<I, O, O2>(predicate: BranchPredicate<I>, then: Primitive<I, O>, otherwise: Primitive<I, O2>): Primitive<I, O | O2>;
export function branch(predicate: BranchPredicate<unknown>, then: Primitive<unknown, unknown>, otherwise?: Primitive<unknown, unknown>): Primitive<unknown, unknown> {
  if (typeof predicate !== 'function') fail('predicate', 'a function', predicate);
  if (!(then instanceof Primitive)) fail('then', 'a primitive', then);
  if (otherwise !== undefined && !(otherwise instanceof Primitive)) fail('otherwise', 'a primitive', otherwise);
  const thenExec = then.exec;
  const elseExec = otherwise?.exec;
  const exec: Exec<unknown, unknown> = async (input, ctx) => {
    ctx.throwIfAborted();
    const chosen = predicate(input, ctx);
    const yes = isThenable<boolean>(chosen) ? await chosen : chosen;
    if (yes) return thenExec(input, ctx);
    return elseExec ? elseExec(input, ctx) : input;
  };
  return new Primitive(`branch:${then.name}`.slice(0, 100), 'branch', exec);
}
