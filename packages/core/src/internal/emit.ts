import { hub } from './event-hub.js';
import type { EventPayload, WeftEvent } from '../events/event-types.js';
import { storage, type Ctx } from './ctx.js';

/** Whether anyone listens; check it before building an event. */
export function listening(): boolean {
  return hub.active;
}

/**
 * Emits an event, filling in workflow, step, primitive, correlation and run IDs from the context.
 * Callers should guard with `listening()` so nothing is built when nobody listens.
 */
export function emit(ctx: Ctx, primitive: string, payload: EventPayload): void {
  if (!hub.active) return;
  // Delivered inside the emitting run's context, so a subscriber's currentContext() (a logger's
  // correlation ID, its secret redaction) sees the run that emitted the event.
  storage.run(ctx, deliver, {
    workflow: ctx.run.workflow,
    step: ctx.step,
    primitive,
    correlationId: ctx.run.correlationId,
    runId: ctx.run.runId,
    time: performance.timeOrigin + performance.now(),
    ...payload,
  } as WeftEvent);
}

function deliver(event: WeftEvent): void {
  hub.emit(event);
}
