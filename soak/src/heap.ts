/** The `gc` function `node --expose-gc` installs, or undefined without the flag. */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  return typeof gc === 'function' ? gc : undefined;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `heapUsed` once garbage has really gone: several full collections with event-loop turns between
 * them (so finalizers, weak references and microtask-held objects are released), then the median
 * of three readings each taken right after a collection. Needs `node --expose-gc`.
 *
 * @example
 * ```ts
 * const before = await settledHeapUsed();
 * ```
 */
export async function settledHeapUsed(rounds = 6): Promise<number> {
  const gc = exposedGc();
  if (gc === undefined) throw new TypeError('settledHeapUsed() needs `node --expose-gc`');
  for (let i = 0; i < rounds; i++) {
    await tick();
    gc();
  }
  const readings: number[] = [];
  for (let i = 0; i < 3; i++) {
    await tick();
    gc();
    readings.push(process.memoryUsage().heapUsed);
  }
  readings.sort((a, b) => a - b);
  return readings[1]!;
}

/**
 * The resources keeping the event loop alive that were not there at `baseline` (the stdio pipes
 * and TTYs a child process inherently has), as a multiset difference of
 * `process.getActiveResourcesInfo()`.
 *
 * @example
 * ```ts
 * const baseline = process.getActiveResourcesInfo();
 * // ... work, then clean up
 * leftoverResources(baseline); // [] when nothing leaked
 * ```
 */
export function leftoverResources(baseline: readonly string[]): string[] {
  const remaining = new Map<string, number>();
  for (const r of baseline) remaining.set(r, (remaining.get(r) ?? 0) + 1);
  const left: string[] = [];
  for (const r of process.getActiveResourcesInfo()) {
    const n = remaining.get(r) ?? 0;
    if (n > 0) remaining.set(r, n - 1);
    else left.push(r);
  }
  return left;
}
