// The full resilience chain (retry + timeout + circuitBreaker + fallback + a cache miss) with the
// @weft/prometheus collector recording every event, against the same chain with no collector
// (nobody listens, so no event is even built), and cockatiel's wrap(fallback, circuitBreaker,
// retry, timeout) around the same no-op.
import * as core from '@weft/core';
import { createWeftMetrics } from '@weft/prometheus';
import { Registry } from 'prom-client';
import { handleAll, retry, timeout, TimeoutStrategy, wrap, ExponentialBackoff, circuitBreaker, ConsecutiveBreaker, fallback } from 'cockatiel';
import { checkBreaksAndFallsBack, checkRetries, checkTimesOut } from '../checks.mjs';

const work = (n) => n + 1;
export const CHAIN_OFF = 'chain retry+timeout+breaker+fallback+cache-miss, metrics off';
export const CHAIN_ON = 'chain retry+timeout+breaker+fallback+cache-miss, metrics on';
export const COCKATIEL_CHAIN = 'cockatiel wrap(fallback, circuitBreaker, retry, timeout)';

/** The chain around `body`; every call is a cache miss (a fresh key each iteration, a small LRU). */
function chain(body) {
  const { step, retry, timeout, circuitBreaker, fallback, cache } = core;
  const quote = step('quote', (n, ctx) => body(n, ctx));
  const guarded = fallback(circuitBreaker(retry(timeout(quote, 1_000), { retries: 2 }), { name: 'quotes' }), () => 0);
  const flow = cache(guarded, { namespace: 'quotes', max: 1_000 });
  return (i) => flow.run(i, { workflow: 'pricing' });
}

function cockatielChain(body) {
  const policy = wrap(
    fallback(handleAll, 0),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 1, maxDelay: 1 }) }),
    timeout(1_000, TimeoutStrategy.Cooperative),
  );
  return (i) => policy.execute((context) => body(i, context));
}

const all = (make) => async () => [await checkRetries(make), await checkTimesOut(make), await checkBreaksAndFallsBack(make, 0)];
let collector;
const withCollector = (make) => (body) => {
  collector ??= createWeftMetrics({ registry: new Registry() });
  return make(body);
};

export const cases = [
  {
    name: CHAIN_OFF,
    check: all(chain),
    setup: () => chain((n) => work(n)),
  },
  {
    name: CHAIN_ON,
    peer: CHAIN_OFF,
    check: all(withCollector(chain)),
    setup: () => withCollector(chain)((n) => work(n)),
    teardown: () => collector?.stop(),
  },
  {
    name: COCKATIEL_CHAIN,
    group: 'peer',
    check: all(cockatielChain),
    setup: () => cockatielChain((n) => work(n)),
  },
];
