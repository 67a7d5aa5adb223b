import type { WeftEvent } from '../events/event-types.js';

/** A function that receives Weft events. */
type EventListener = (event: WeftEvent) => void;

let reporting = false;
/** Reports a subscriber's error on `process.emitWarning`: a subscriber never breaks a run. */
export function reportSubscriberError(error: unknown): void {
  if (reporting) return;
  reporting = true;
  try {
    process.emitWarning(`A Weft event subscriber threw: ${error instanceof Error ? error.message : String(error)}`, 'WeftSubscriberWarning');
  } catch {
    // Telemetry never breaks a workflow.
  } finally {
    reporting = false;
  }
}

interface Entry {
  readonly listener: EventListener;
  /** The event types it receives; undefined for every type. */
  readonly types: ReadonlySet<string> | undefined;
}

/**
 * The process-wide event hub: a plain listener list, so emitting needs no rxjs. `active` is false
 * when nobody listens, and `wants(type)` is false when no listener takes that type, so emitters
 * skip building events nobody receives.
 */
class EventHub {
  private entries: readonly Entry[] = [];
  /** Listeners that take every type. */
  private unfiltered = 0;
  /** Per event type, the listeners that asked for it by name. */
  private readonly byType = new Map<string, number>();
  /** Read this before building an event: it is false when nobody subscribes. */
  active = false;

  /** Adds a listener, for every event or only for `types`; returns the function that removes it. */
  add(listener: EventListener, types?: Iterable<string>): () => void {
    const entry: Entry = { listener, types: types === undefined ? undefined : new Set(types) };
    this.entries = [...this.entries, entry];
    this.count(entry, 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.entries = this.entries.filter((e) => e !== entry);
      this.count(entry, -1);
    };
  }

  /** Whether any listener takes events of `type`. */
  wants(type: string): boolean {
    return this.unfiltered > 0 || this.byType.has(type);
  }

  /** Delivers a frozen event to every listener that takes its type, so no subscriber can change what the next one sees. */
  emit(event: WeftEvent): void {
    Object.freeze(event);
    const es = this.entries;
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      if (e.types !== undefined && !e.types.has(event.type)) continue;
      try {
        e.listener(event);
      } catch (error) {
        reportSubscriberError(error);
      }
    }
  }

  private count(entry: Entry, delta: 1 | -1): void {
    if (entry.types === undefined) this.unfiltered += delta;
    else {
      for (const type of entry.types) {
        const n = (this.byType.get(type) ?? 0) + delta;
        if (n > 0) this.byType.set(type, n);
        else this.byType.delete(type);
      }
    }
    this.active = this.entries.length > 0;
  }
}

/**
 * The hub lives on `globalThis` so that two installed copies of `@weft/core` share one stream. The
 * key carries the hub's version: copies with a different hub keep their own.
 */
export const hub: EventHub = ((globalThis as Record<symbol, unknown>)[Symbol.for('weft.event-hub.v3')] ??= new EventHub()) as EventHub;
