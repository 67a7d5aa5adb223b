import type { LabelGuard } from './label-guard.js';

type Level = Map<string, unknown>;

/**
 * Label-bound children of one metric (`metric.labels(...)` results, or small records of them), in
 * nested Maps keyed by label value, so recording an event costs one `Map.get` per label and no
 * allocation. Keys are always values the guards admitted unchanged: a raw value that a guard
 * replaces (too long, or one distinct value too many) misses every time and takes the slow path,
 * which maps it to its replacement. Memory is therefore bounded by the guards' caps.
 */
export class ChildCache<C> {
  private readonly root: Level = new Map();

  constructor(
    private readonly guards: readonly LabelGuard[],
    private readonly create: (values: readonly string[]) => C,
  ) {}

  get1(a: string): C {
    return (this.root.get(a) as C | undefined) ?? this.slow([a]);
  }

  get2(a: string, b: string): C {
    const l1 = this.root.get(a) as Level | undefined;
    return (l1?.get(b) as C | undefined) ?? this.slow([a, b]);
  }

  get3(a: string, b: string, c: string): C {
    const l1 = this.root.get(a) as Level | undefined;
    const l2 = l1?.get(b) as Level | undefined;
    return (l2?.get(c) as C | undefined) ?? this.slow([a, b, c]);
  }

  get4(a: string, b: string, c: string, d: string): C {
    const l1 = this.root.get(a) as Level | undefined;
    const l2 = l1?.get(b) as Level | undefined;
    const l3 = l2?.get(c) as Level | undefined;
    return (l3?.get(d) as C | undefined) ?? this.slow([a, b, c, d]);
  }

  private slow(raw: readonly unknown[]): C {
    const n = raw.length;
    const values: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) values[i] = this.guards[i]!.resolve(raw[i]);
    let level = this.root;
    for (let i = 0; i < n - 1; i++) {
      let next = level.get(values[i]!) as Level | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i]!, next);
      }
      level = next;
    }
    const last = values[n - 1]!;
    let child = level.get(last) as C | undefined;
    if (child === undefined) {
      child = this.create(values);
      level.set(last, child);
    }
    return child;
  }
}
