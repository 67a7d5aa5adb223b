// Foundation cases: the bare call every ratio is measured against, the Node floor of a run with a
// deadline, the core contract, and cockatiel.
import { AsyncLocalStorage } from 'node:async_hooks';
import { parallel, sequence, step } from '@weft/core';
import { handleAll, retry, timeout, TimeoutStrategy, wrap, ExponentialBackoff } from 'cockatiel';
import { checkRetries, checkTimesOut } from '../checks.mjs';

/** The no-op every case wraps. */
export const work = (n) => n + 1;

export const FLOOR = 'node floor: ALS.run + setTimeout/clearTimeout + await';
export const COCKATIEL = 'cockatiel wrap(retry, timeout)';

const noop = () => {};

/** cockatiel's retry(3) around a cooperative 1 s timeout, around `body`. */
export function cockatielRetryTimeout(body) {
  const policy = wrap(retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff({ initialDelay: 1, maxDelay: 1 }) }), timeout(1_000, TimeoutStrategy.Cooperative));
  return (i) => policy.execute((context) => body(i, context));
}

export const cases = [
  { name: 'bare call', setup: () => (i) => work(i) },
  {
    // What any run with a deadline costs on Node at least: a context for the run, one timer armed
    // and cleared, and an await of the callee.
    name: FLOOR,
    setup: () => {
      const als = new AsyncLocalStorage();
      const store = { run: 1 };
      const body = async (i) => {
        const t = setTimeout(noop, 1_000);
        try {
          return await work(i);
        } finally {
          clearTimeout(t);
        }
      };
      return (i) => als.run(store, body, i);
    },
  },
  {
    name: 'step().run()',
    setup: () => {
      const s = step('noop', work);
      return (i) => s.run(i);
    },
  },
  {
    name: 'sequence of 3 steps',
    setup: () => {
      const s = sequence(step('a', work), step('b', work), step('c', work));
      return (i) => s.run(i);
    },
  },
  {
    name: 'parallel of 3 steps',
    setup: () => {
      const p = parallel([step('a', work), step('b', work), step('c', work)]);
      return (i) => p.run(i);
    },
  },
  {
    name: COCKATIEL,
    group: 'peer',
    check: async () => [await checkRetries(cockatielRetryTimeout), await checkTimesOut(cockatielRetryTimeout)],
    setup: () => cockatielRetryTimeout((i) => work(i)),
  },
];
