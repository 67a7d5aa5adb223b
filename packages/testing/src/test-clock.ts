import FakeTimers from '@sinonjs/fake-timers';
import { useClock, type Clock, type TimerHandle } from '@weft/core';

/** Options of {@link testClock}. */
export interface TestClockOptions {
  /** The start time, in epoch ms. @default 0 */
  readonly now?: number | Date;
  /**
   * Install it as the process-wide Weft clock at once (`useClock`), so every Weft timer and clock
   * read in the test uses it. With false, call `install()` yourself, or pass it as a primitive's
   * `clock` option.
   * @default true
   */
  readonly install?: boolean;
}

/** A virtual clock that drives every Weft timer; see {@link testClock}. */
export interface TestClock extends Clock {
  /** Advances time by `ms`, firing every timer due on the way, and lets promise reactions settle between them. */
  tick(ms: number): Promise<void>;
  /** Fires the next timer (advancing time to it) and lets promise reactions settle; no-op when none is pending. */
  next(): Promise<void>;
  /** Fires timers until none is left (a loop that keeps arming timers stops after 1,000). */
  runAll(): Promise<void>;
  /** How many timers are pending. */
  pending(): number;
  /** Makes it the process-wide Weft clock (`useClock`); idempotent. */
  install(): void;
  /** Restores the clock that was in place before `install()`; idempotent. */
  uninstall(): void;
  /** `uninstall()`, for `using clock = testClock()`. */
  [Symbol.dispose](): void;
}

/**
 * A virtual clock for Weft, built on @sinonjs/fake-timers: retry backoff, timeouts, the breaker's
 * open time, rate-limit refill, hedge delays, bulkhead queue deadlines, cache TTLs, budget windows
 * and run deadlines all read it, so a workflow with three 10-second backoffs runs in milliseconds.
 * It is installed through Weft's injectable clock (`useClock`), not by patching globals: your test
 * runner's own timers, and code outside Weft, keep real time.
 *
 * @example
 * ```ts
 * import { step } from '@weft/core';
 * import { testClock } from '@weft/testing';
 *
 * const clock = testClock();
 * let calls = 0;
 * const flaky = step('flaky', () => (++calls < 3 ? Promise.reject(new Error('busy')) : 'ok')).retry({ delays: [10_000, 10_000] });
 * const result = flaky.run(undefined);
 * await clock.tick(20_000); // both backoffs, instantly
 * console.log(await result); // 'ok'
 * clock.uninstall();
 * ```
 */
export function testClock(options?: TestClockOptions): TestClock {
  const start = options?.now instanceof Date ? options.now.getTime() : (options?.now ?? 0);
  if (typeof start !== 'number' || !Number.isFinite(start)) throw new TypeError(`Expected \`now\` to be epoch milliseconds or a Date, got ${String(options?.now)}`);
  const fake = FakeTimers.createClock(start, 1_000);
  let restore: (() => void) | undefined;
  const clock: TestClock = {
    now: () => fake.now,
    setTimeout: (callback: () => void, ms: number): TimerHandle => fake.setTimeout(callback, ms),
    clearTimeout: (handle: TimerHandle): void => fake.clearTimeout(handle as FakeTimers.TimerId),
    tick: async (ms) => {
      await fake.tickAsync(ms);
    },
    next: async () => {
      await fake.nextAsync();
    },
    runAll: async () => {
      await fake.runAllAsync();
    },
    pending: () => fake.countTimers(),
    install: () => {
      restore ??= useClock(clock);
    },
    uninstall: () => {
      restore?.();
      restore = undefined;
    },
    [Symbol.dispose]: () => clock.uninstall(),
  };
  if (options?.install !== false) clock.install();
  return clock;
}
