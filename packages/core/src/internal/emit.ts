import { hub } from './event-hub.js';
import type { EventPayload, WeftEvent } from '../events/event-types.js';
import { storage, type Ctx } from './ctx.js';

/** Whether anyone listens; check it before building an event. */
export function listening(): boolean {
  return hub.active;
}

type Mutable = { -readonly [K in keyof WeftEvent]?: unknown } & Record<string, unknown>;

/**
 * Emits an event, filling in workflow, step, primitive, correlation and run IDs from the context.
 * Callers should guard with `listening()` so nothing is built when nobody listens. An event whose
 * type no listener takes is dropped before anything is read for it.
 *
 * `payload` must be a fresh object literal: it becomes the event (completed in place, then frozen),
 * which costs a third of copying it into a new object.
 */
export function emit(ctx: Ctx, primitive: string, payload: EventPayload): void {
  if (!hub.wants(payload.type)) return;
  const event = payload as unknown as Mutable;
  event.workflow = ctx.run.workflow;
  if (event.step === undefined) event.step = ctx.step;
  if (event.primitive === undefined) event.primitive = primitive;
  event.correlationId = ctx.run.correlationId;
  event.runId = ctx.run.runId;
  event.time = performance.timeOrigin + performance.now();
  // Delivered inside the emitting run's context, so a subscriber's currentContext() (a logger's
  // correlation ID, its secret redaction) sees the run that emitted the event.
  storage.run(ctx, deliver, event as unknown as WeftEvent);
}

function deliver(event: WeftEvent): void {
  hub.emit(event);
}
