// Foundation cases: the bare call every ratio is measured against, the core contract, and cockatiel.
import { parallel, sequence, step } from '@weft/core';
import { handleAll, retry, timeout, TimeoutStrategy, wrap, ExponentialBackoff } from 'cockatiel';

/** The no-op every case wraps. */
export const work = (n) => n + 1;

export const cases = [
  { name: 'bare call', setup: () => (i) => work(i) },
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
    name: 'cockatiel wrap(retry, timeout)',
    group: 'peer',
    setup: () => {
      const policy = wrap(retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }), timeout(1_000, TimeoutStrategy.Cooperative));
      return (i) => policy.execute(() => work(i));
    },
  },
];
