import type { Scope } from '../internal/scope.js';

/**
 * @internal A running sum of the costs recorded inside one call of a budgeted primitive.
 * Sinks are keyed by the call's own scope; a cost recorded with a context whose scope descends
 * from it (every primitive derives child scopes) is added to it, so concurrent siblings in the
 * same run never mix their costs.
 */
export interface CostSink {
  /** The sum, in integer nano-units. */
  nanos: number;
}

const sinks = new WeakMap<Scope, CostSink>();
let open = 0;

/** @internal Opens a sink on `scope`; call `closeSink` when the call settles. */
export function openSink(scope: Scope): CostSink {
  const sink: CostSink = { nanos: 0 };
  sinks.set(scope, sink);
  open++;
  return sink;
}

/** @internal */
export function closeSink(scope: Scope): void {
  if (sinks.delete(scope)) open--;
}

/** @internal Adds `amount` to every open sink on the path from `scope` to the root. */
export function addToSinks(scope: Scope, nanos: number): void {
  if (open === 0) return;
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
    const sink = sinks.get(s);
    if (sink !== undefined) sink.nanos += nanos;
  }
}
