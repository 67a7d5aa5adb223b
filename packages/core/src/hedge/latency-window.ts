/**
 * A bounded ring buffer of recent latencies with a cached nearest-rank quantile.
 *
 * Recording is O(1) and allocates nothing. The quantile is recomputed only when a sample arrived
 * since the last read, with an O(n) quickselect over a preallocated scratch copy, so the hot path
 * never sorts and never allocates.
 *
 * @example
 * ```ts
 * const w = new LatencyWindow(100);
 * w.record(12); w.record(30); w.record(18);
 * w.quantile(0.5); // 18
 * ```
 */
export class LatencyWindow {
  private readonly buffer: Float64Array;
  private readonly scratch: Float64Array;
  private count = 0;
  private next = 0;
  private dirty = false;
  private cachedQuantile = NaN;
  private cachedValue = NaN;

  /** @param capacity how many recent samples to keep (the oldest is overwritten). */
  constructor(readonly capacity: number) {
    this.buffer = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  /** How many samples are held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Adds a sample, overwriting the oldest one when full. */
  record(ms: number): void {
    this.buffer[this.next] = ms;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.count < this.capacity) this.count++;
    this.dirty = true;
  }

  /**
   * The nearest-rank `q` quantile (0 < q <= 1) of the samples held: the smallest sample such that
   * at least `q` of the samples are <= it. NaN when empty.
   */
  quantile(q: number): number {
    const n = this.count;
    if (n === 0) return NaN;
    if (!this.dirty && q === this.cachedQuantile) return this.cachedValue;
    const a = this.scratch;
    a.set(n === this.capacity ? this.buffer : this.buffer.subarray(0, n));
    const k = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
    const value = select(a, n, k);
    this.dirty = false;
    this.cachedQuantile = q;
    this.cachedValue = value;
    return value;
  }
}

/** Quickselect (Hoare partition, median-of-three pivot): the k-th smallest of a[0..n), reordering a. */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three, so sorted or reversed input does not degrade to O(n^2)
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
