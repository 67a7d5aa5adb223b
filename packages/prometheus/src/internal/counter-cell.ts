import type { Counter } from 'prom-client';

/**
 * A label-bound counter whose increments accumulate in a plain number and reach prom-client when
 * the registry collects (the metric's `collect` hook calls {@link CounterCell.flush}). prom-client's
 * own `inc` hashes the label set on every call; this keeps recording to a field add, and moves that
 * cost to the scrape, where it is paid once per series instead of once per event.
 */
export class CounterCell {
  private pending = 0;

  constructor(private readonly child: Counter.Internal) {}

  /** Adds `value` (default 1). Throws a RangeError, before changing anything, for a negative or non-finite value. */
  inc(value = 1): void {
    if (!(value >= 0 && value < Infinity)) throw new RangeError(`Counter increment must be finite and >= 0, got ${value}`);
    this.pending += value;
  }

  /** Makes the series exist (at its current value, 0 when new), so a scrape shows it before any event. */
  touch(): void {
    this.child.inc(0);
  }

  /** Moves the accumulated increments into the prom-client counter. */
  flush(): void {
    const value = this.pending;
    if (value === 0) return;
    this.pending = 0;
    this.child.inc(value);
  }
}

/** Flushes every cell into its counter; registered as the counter's `collect` hook. Never throws, so a scrape never fails on it. */
export function flushAll(cells: readonly CounterCell[]): void {
  for (let i = 0; i < cells.length; i++) {
    try {
      cells[i]!.flush();
    } catch {
      // A flush cannot fail for a value inc() accepted; stay safe for the scrape anyway.
    }
  }
}
