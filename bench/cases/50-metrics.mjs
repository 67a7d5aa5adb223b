// Metrics overhead: the full resilience chain (retry + timeout + circuitBreaker + fallback + a cache
// miss) with the @weft/prometheus collector recording every event, against the same chain with no
// collector (nobody listens, so no event is even built). Goal: <= 5 µs of overhead per run.
import * as core from '@weft/core';
import { createWeftMetrics } from '@weft/prometheus';
import { Registry } from 'prom-client';

const work = (n) => n + 1;

/** The chain; every call is a cache miss (a fresh key each iteration, a small LRU). */
function chain() {
  const { step, retry, timeout, circuitBreaker, fallback, cache } = core;
  if (typeof cache !== 'function') throw new Error('@weft/core does not export cache() yet');
  const quote = step('quote', work);
  const guarded = fallback(circuitBreaker(retry(timeout(quote, 1_000), { retries: 2 }), { name: 'quotes' }), () => 0);
  const flow = cache(guarded, { namespace: 'quotes', max: 1_000 });
  return (i) => flow.run(i, { workflow: 'pricing' });
}

let collector;

export const cases = [
  {
    name: 'chain retry+timeout+breaker+fallback+cache-miss, metrics off',
    setup: () => chain(),
  },
  {
    name: 'chain retry+timeout+breaker+fallback+cache-miss, metrics on',
    peer: 'chain retry+timeout+breaker+fallback+cache-miss, metrics off',
    setup: () => {
      collector = createWeftMetrics({ registry: new Registry() });
      return chain();
    },
    teardown: () => collector?.stop(),
  },
];
