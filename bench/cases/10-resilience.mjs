// Resilience cases: retry(3) + timeout(1 s) around the same no-op, once with the callee ignoring
// its signal and once reading it, beside cockatiel's wrap(retry, timeout) in the same run.
import { step } from '@weft/core';
import { handleAll, retry, timeout, TimeoutStrategy, wrap, ExponentialBackoff, circuitBreaker as cbPolicy, ConsecutiveBreaker, fallback as cfb } from 'cockatiel';
import { CircuitBreaker } from '@weft/core';
import { work } from './00-core.mjs';

const COCKATIEL = 'cockatiel wrap(retry, timeout)';

export const cases = [
  {
    name: 'weft retry(3)+timeout(1s), signal unread',
    peer: COCKATIEL,
    setup: () => {
      const p = step('noop', work).timeout(1_000).retry({ retries: 3 });
      return (i) => p.run(i);
    },
  },
  {
    name: 'weft retry(3)+timeout(1s), signal read',
    peer: COCKATIEL,
    setup: () => {
      const p = step('noop', (n, ctx) => (ctx.signal.aborted ? 0 : work(n))).timeout(1_000).retry({ retries: 3 });
      return (i) => p.run(i);
    },
  },
  {
    name: 'cockatiel wrap(retry, timeout), signal read',
    setup: () => {
      const policy = wrap(retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }), timeout(1_000, TimeoutStrategy.Cooperative));
      return (i) => policy.execute(({ signal }) => (signal.aborted ? 0 : work(i)));
    },
  },
  {
    name: 'weft circuitBreaker (closed)',
    peer: 'cockatiel circuitBreaker (closed)',
    setup: () => {
      const p = step('noop', work).circuitBreaker(new CircuitBreaker({ threshold: 5 }));
      return (i) => p.run(i);
    },
  },
  {
    name: 'cockatiel circuitBreaker (closed)',
    setup: () => {
      const policy = cbPolicy(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
      return (i) => policy.execute(() => work(i));
    },
  },
  {
    name: 'weft fallback (primary serves)',
    peer: 'cockatiel fallback (primary serves)',
    setup: () => {
      const p = step('noop', work).fallback(step('alt', () => 0));
      return (i) => p.run(i);
    },
  },
  {
    name: 'cockatiel fallback (primary serves)',
    setup: () => {
      const policy = cfb(handleAll, 0);
      return (i) => policy.execute(() => work(i));
    },
  },
  {
    name: 'weft bulkhead(10)',
    setup: () => {
      const p = step('noop', work).bulkhead({ maxConcurrent: 10 });
      return (i) => p.run(i);
    },
  },
  {
    name: 'weft rateLimit (ample tokens)',
    setup: () => {
      const p = step('noop', work).rateLimit({ rate: 1e12, burst: 1e12 });
      return (i) => p.run(i);
    },
  },
];
