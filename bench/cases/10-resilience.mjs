// Resilience cases: retry(3) + timeout(1 s) around the same no-op, once with the callee ignoring
// its signal and once reading it, beside cockatiel's wrap(retry, timeout) and effect@4's
// tryPromise + timeout + retry in the same run.
import { step, CircuitBreaker } from '@weft/core';
import { handleAll, circuitBreaker as cbPolicy, ConsecutiveBreaker, fallback as cfb } from 'cockatiel';
import { Effect } from 'effect';
import { work, COCKATIEL, FLOOR, cockatielRetryTimeout } from './00-core.mjs';
import { checkRetries, checkTimesOut } from '../checks.mjs';

export const WEFT_UNREAD = 'weft retry(3)+timeout(1s), signal unread';
export const WEFT_READ = 'weft retry(3)+timeout(1s), signal read';
export const COCKATIEL_READ = 'cockatiel wrap(retry, timeout), signal read';
export const EFFECT_UNREAD = 'effect@4 tryPromise+timeout(1s)+retry(3), signal unread';
export const EFFECT_READ = 'effect@4 tryPromise+timeout(1s)+retry(3), signal read';

/** Weft's retry(3) around timeout(1 s); `read` hands the callee the run context (it may read ctx.signal). */
const weftRetryTimeout = (read) => (body) => {
  const p = step('noop', read ? (n, ctx) => body(n, ctx) : (n) => body(n, undefined)).timeout(1_000).retry({ retries: 3 });
  return (i) => p.run(i);
};

/** effect@4: tryPromise, a 1 s timeout, retried 3 times; `read` takes tryPromise's AbortSignal. */
const effectRetryTimeout = (read) => (body) => {
  const program = read
    ? (i) => Effect.tryPromise({ try: async (signal) => body(i, { signal }), catch: (e) => e })
    : (i) => Effect.tryPromise({ try: async () => body(i, undefined), catch: (e) => e });
  return (i) => Effect.runPromise(program(i).pipe(Effect.timeout('1 second'), Effect.retry({ times: 3 })));
};

const both = (make, options) => async () => [await checkRetries(make), await checkTimesOut(make, options)];
const readSignal = (n, src) => (src.signal.aborted ? 0 : work(n));

export const cases = [
  {
    name: WEFT_UNREAD,
    peer: FLOOR,
    check: both(weftRetryTimeout(false), { signal: false }),
    setup: () => weftRetryTimeout(false)((n) => work(n)),
  },
  {
    name: WEFT_READ,
    peer: COCKATIEL_READ,
    check: both(weftRetryTimeout(true)),
    setup: () => weftRetryTimeout(true)(readSignal),
  },
  {
    name: COCKATIEL_READ,
    check: both(cockatielRetryTimeout),
    setup: () => cockatielRetryTimeout(readSignal),
  },
  {
    name: EFFECT_UNREAD,
    group: 'peer',
    check: both(effectRetryTimeout(false), { signal: false }),
    setup: () => effectRetryTimeout(false)((n) => work(n)),
  },
  {
    name: EFFECT_READ,
    group: 'peer',
    check: both(effectRetryTimeout(true)),
    setup: () => effectRetryTimeout(true)(readSignal),
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
export { COCKATIEL };
