import { OVERFLOW_LABEL_VALUE } from '../metric-names.js';

/** Why a label value was replaced. */
export type OverflowReason = 'too_long' | 'too_many_values';

/**
 * Bounds one label's values across every metric of a collector: values longer than `maxLength` are
 * truncated, and once `maxValues` distinct values have been seen, new ones become `other`.
 * Called only when a label tuple misses the child cache, so it is off the hot path.
 */
export class LabelGuard {
  private readonly admitted = new Set<string>();

  constructor(
    readonly label: string,
    private readonly maxValues: number,
    private readonly maxLength: number,
    private readonly onOverflow: (label: string, reason: OverflowReason) => void,
  ) {}

  /** The value to record for `raw`. */
  resolve(raw: unknown): string {
    // A missing field (an event from an older or newer core) reads as `unknown`, not "undefined".
    let value = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint' ? String(raw) : 'unknown';
    if (value.length > this.maxLength) {
      value = value.slice(0, this.maxLength);
      this.onOverflow(this.label, 'too_long');
    }
    if (this.admitted.has(value)) return value;
    if (this.admitted.size < this.maxValues) {
      this.admitted.add(value);
      return value;
    }
    this.onOverflow(this.label, 'too_many_values');
    return OVERFLOW_LABEL_VALUE;
  }
}
