/**
 * @internal Counts calls and failures over a sliding time window made of `size` buckets of
 * `windowMs / size` each. Time is passed in (no timers): buckets that fell out of the window are
 * cleared when the next call is recorded. Totals are kept so reading the ratio is O(1).
 */
export class RollingWindow {
  readonly calls: number[];
  readonly failures: number[];
  totalCalls = 0;
  totalFailures = 0;
  /** Absolute index (`floor(now / bucketMs)`) of the newest bucket. */
  index = 0;
  private readonly bucketMs: number;

  constructor(
    readonly windowMs: number,
    readonly size: number,
  ) {
    this.bucketMs = windowMs / size;
    this.calls = new Array<number>(size).fill(0);
    this.failures = new Array<number>(size).fill(0);
  }

  /** Records one call at time `now`. */
  record(now: number, failed: boolean): void {
    const slot = this.advance(now);
    this.calls[slot]!++;
    this.totalCalls++;
    if (failed) {
      this.failures[slot]!++;
      this.totalFailures++;
    }
  }

  /** Moves the window to `now`, clearing expired buckets; returns the slot for `now`. */
  private advance(now: number): number {
    const size = this.size;
    const idx = Math.floor(now / this.bucketMs);
    const gap = idx - this.index;
    // A clock that went backwards keeps using the newest bucket.
    if (gap <= 0) return ((this.index % size) + size) % size;
    if (gap >= size) {
      this.clear();
    } else {
      for (let k = 1; k <= gap; k++) {
        const slot = (((this.index + k) % size) + size) % size;
        this.totalCalls -= this.calls[slot]!;
        this.totalFailures -= this.failures[slot]!;
        this.calls[slot] = 0;
        this.failures[slot] = 0;
      }
    }
    this.index = idx;
    return ((idx % size) + size) % size;
  }

  clear(): void {
    this.calls.fill(0);
    this.failures.fill(0);
    this.totalCalls = 0;
    this.totalFailures = 0;
  }

  /** Loads counts saved by a snapshot; ignored when the bucket count differs. */
  load(index: number, calls: readonly number[], failures: readonly number[]): void {
    if (calls.length !== this.size || failures.length !== this.size) return;
    this.index = index;
    let c = 0;
    let f = 0;
    for (let i = 0; i < this.size; i++) {
      this.calls[i] = calls[i]!;
      this.failures[i] = failures[i]!;
      c += calls[i]!;
      f += failures[i]!;
    }
    this.totalCalls = c;
    this.totalFailures = f;
  }
}

/**
 * @internal The outcomes of the last `size` calls, for a count-based window: a ring of booleans
 * (true = failed) with running totals, so reading the ratio is O(1).
 */
export class CountWindow {
  private readonly ring: boolean[] = [];
  private next = 0;
  totalCalls = 0;
  totalFailures = 0;

  constructor(readonly size: number) {}

  record(_now: number, failed: boolean): void {
    if (this.ring.length < this.size) this.ring.push(failed);
    else {
      if (this.ring[this.next]) this.totalFailures--;
      this.totalCalls--;
      this.ring[this.next] = failed;
    }
    this.next = (this.next + 1) % this.size;
    this.totalCalls++;
    if (failed) this.totalFailures++;
  }

  clear(): void {
    this.ring.length = 0;
    this.next = 0;
    this.totalCalls = 0;
    this.totalFailures = 0;
  }

  /** The outcomes, oldest first. */
  outcomes(): boolean[] {
    return this.ring.length < this.size ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  /** Loads outcomes saved by `outcomes()` (the newest `size` of them). */
  load(outcomes: readonly boolean[]): void {
    this.clear();
    for (const failed of outcomes.slice(-this.size)) this.record(0, failed);
  }
}
