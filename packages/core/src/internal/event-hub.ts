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

/**
 * The process-wide event hub: a plain listener list, so emitting needs no rxjs. `active` is false
 * when nobody listens, so emitters skip building events.
 */
class EventHub {
  private listeners: EventListener[] = [];
  /** Read this before building an event: it is false when nobody subscribes. */
  active = false;

  /** Adds a listener; returns the function that removes it. */
  add(listener: EventListener): () => void {
    this.listeners = [...this.listeners, listener];
    this.active = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.active = this.listeners.length > 0;
    };
  }

  /** Delivers a frozen event to every listener, so no subscriber can change what the next one sees. */
  emit(event: WeftEvent): void {
    Object.freeze(event);
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!(event);
      } catch (error) {
        reportSubscriberError(error);
      }
    }
  }
}

/** The hub lives on `globalThis` so that two installed copies of `@weft/core` share one stream. */
export const hub: EventHub = ((globalThis as Record<symbol, unknown>)[Symbol.for('weft.event-hub.v2')] ??= new EventHub()) as EventHub;
