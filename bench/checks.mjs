// Behaviour checks run in the case's own process before it is timed: a case only counts if its
// policy really retries, times out (and the abort reaches the callee), breaks and falls back.
// Each case builds its policy from a `body(i, src)` (src carries the library's signal, when any),
// so the checked policy is built by exactly the code that is timed, only around another body.

/** A rejection with a marker, so a check can tell its own failures from the library's errors. */
class Planned extends Error {}

const fail = (what) => {
  throw new Error(`check failed: ${what}`);
};

/** Throws twice, then answers: the policy must retry (3 calls) and resolve with the answer. */
export async function checkRetries(make) {
  let calls = 0;
  const run = make(() => {
    calls++;
    if (calls <= 2) throw new Planned('flaky');
    return 42;
  });
  const out = await run(0);
  if (out !== 42 || calls !== 3) fail(`retry: expected 42 after 3 calls, got ${String(out)} after ${calls}`);
  return 'retries';
}

/**
 * The first call hangs until its signal aborts (or forever when the case hands it none): the
 * policy's 1 s timeout must end it, the abort must reach the callee's signal (when it has one),
 * and the retry must then answer.
 */
export async function checkTimesOut(make, { signal = true } = {}) {
  let calls = 0;
  let aborted = false;
  const run = make((_i, src) => {
    calls++;
    if (calls > 1) return 7;
    if (!signal) return new Promise(() => {});
    const s = src.signal;
    return new Promise((_, reject) =>
      s.addEventListener('abort', () => {
        aborted = true;
        reject(s.reason ?? new Planned('aborted'));
      }),
    );
  });
  const t0 = performance.now();
  const out = await run(0);
  const ms = performance.now() - t0;
  if (out !== 7 || calls !== 2) fail(`timeout: expected 7 after 2 calls, got ${String(out)} after ${calls}`);
  if (ms < 900 || ms > 3_000) fail(`timeout: the hung attempt ended after ${ms.toFixed(0)} ms, not about 1 s`);
  if (signal && !aborted) fail('timeout: the abort never reached the callee');
  return signal ? 'times out (abort reaches the callee)' : 'times out';
}

/** Always fails: every run must answer with the fallback value, and the breaker must stop calls. */
export async function checkBreaksAndFallsBack(make, fallbackValue = 0) {
  let calls = 0;
  const run = make(() => {
    calls++;
    throw new Planned('down');
  });
  for (let i = 0; i < 5; i++) {
    const out = await run(i);
    if (out !== fallbackValue) fail(`fallback: expected ${fallbackValue}, got ${String(out)}`);
  }
  const before = calls;
  for (let i = 0; i < 20; i++) {
    const out = await run(100 + i);
    if (out !== fallbackValue) fail(`fallback (open): expected ${fallbackValue}, got ${String(out)}`);
  }
  if (calls !== before) fail(`breaker: ${calls - before} calls went through after ${before} failures`);
  return `breaks after ${before} calls, falls back`;
}
