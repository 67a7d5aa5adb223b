/** What one budget's keys look like now: counts by state and the highest utilisation still below the limit. */
export interface KeyedBudgetView {
  /** Keys reported within the idle limit. */
  readonly active: number;
  /** Active keys at or over the warning line and not exhausted. */
  readonly warning: number;
  /** Active keys at or over their limit. */
  readonly exhausted: number;
  /** The highest utilisation among active keys that are not exhausted; 0 when there are none. */
  readonly highestBelowLimit: number;
  /** How much this report's key spent since its previous report (0 when its window drained). */
  readonly spentDelta: number;
}

interface Entry {
  utilisation: number;
  warnAt: number;
  spent: number;
  at: number;
}

type State = 'ok' | 'warning' | 'exhausted';

function stateOf(e: Entry): State {
  return e.utilisation >= 1 ? 'exhausted' : e.utilisation >= e.warnAt ? 'warning' : 'ok';
}

/**
 * The keys of one budget kept per key (partitions, hashed by core: never the key itself), as the
 * collector last heard of them. A key not reported for `idleMs` is dropped: nothing says what its
 * window holds now, so it no longer counts as warning or exhausted. Bounded to `maxKeys` (the
 * least recently reported go first). Counts are kept incrementally; the highest utilisation below
 * the limit is recomputed only when the key holding it moves down or leaves.
 */
export class KeyedBudget {
  private readonly keys = new Map<string, Entry>();
  private warning = 0;
  private exhausted = 0;
  private max = 0;
  private maxKey: string | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly maxKeys: number,
  ) {}

  /**
   * Records a key's report. `spent` is the window's actual spend after a call, or undefined for a
   * report that is not one (a refusal reports the spend the call would have made).
   */
  report(key: string, utilisation: number, warnAt: number, spent: number | undefined, at: number): KeyedBudgetView {
    const previous = this.keys.get(key);
    let spentDelta = 0;
    if (previous !== undefined) {
      this.keys.delete(key);
      this.count(previous, -1);
    }
    if (spent !== undefined) spentDelta = Math.max(0, spent - (previous?.spent ?? 0));
    const entry: Entry = { utilisation, warnAt, spent: spent ?? previous?.spent ?? 0, at };
    this.keys.set(key, entry);
    this.count(entry, 1);
    let lostMax = previous !== undefined && this.maxKey === key && (utilisation < this.max || utilisation >= 1);
    // Drop keys idle too long, and the oldest beyond the cap (Map order is report order).
    for (const [k, e] of this.keys) {
      if (this.keys.size <= this.maxKeys && e.at >= at - this.idleMs) break;
      this.keys.delete(k);
      this.count(e, -1);
      if (k === this.maxKey) lostMax = true;
    }
    if (lostMax) this.recomputeMax();
    else if (utilisation < 1 && utilisation >= this.max) {
      this.max = utilisation;
      this.maxKey = key;
    }
    return { active: this.keys.size, warning: this.warning, exhausted: this.exhausted, highestBelowLimit: this.max, spentDelta };
  }

  private count(e: Entry, by: 1 | -1): void {
    const s = stateOf(e);
    if (s === 'warning') this.warning += by;
    else if (s === 'exhausted') this.exhausted += by;
  }

  private recomputeMax(): void {
    this.max = 0;
    this.maxKey = undefined;
    for (const [k, e] of this.keys) {
      if (e.utilisation < 1 && e.utilisation >= this.max) {
        this.max = e.utilisation;
        this.maxKey = k;
      }
    }
  }
}
