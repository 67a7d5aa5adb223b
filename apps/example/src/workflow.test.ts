// The example app's tests, written with @weft/testing as an example for users: a test clock for
// the carrier's wait, the events and the span tree of a run, all without real time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isValidationError } from '@weft/core';
import { captureEvents, recordSpans, testClock, type EventCapture, type SpanRecording, type TestClock } from '@weft/testing';
import { quoteOrder } from './workflow.js';

describe('example workflow', () => {
  let clock: TestClock;
  let events: EventCapture;
  let spans: SpanRecording;
  beforeEach(() => {
    clock = testClock();
    events = captureEvents();
    spans = recordSpans();
  });
  afterEach(async () => {
    clock.uninstall();
    events.stop();
    await spans.stop();
  });

  it('quotes an order with the correlation ID it was given', async () => {
    const out = quoteOrder.run({ id: 'o1', items: [{ sku: 'a', qty: 2, unitPrice: 5 }] }, { correlationId: 'ex-1' });
    await clock.tick(5); // the carrier's answer
    await expect(out).resolves.toEqual({ total: 14.99, subtotal: 10, shipping: 4.99, correlationId: 'ex-1' });
    expect(events.of('step.finished').map((e) => e.step)).toEqual(['validate', 'subtotal', 'shipping', 'quote']);
    expect(spans.outline()).toMatchInlineSnapshot(`
      "validate>subtotal|shipping>quote
        validate
        subtotal
        shipping
        quote"
    `);
  });

  it('times out in the carrier call when the run has less than 5 ms, and aborts it', async () => {
    const out = quoteOrder.run({ id: 'o2', items: [{ sku: 'a', qty: 1, unitPrice: 5 }] }, { timeout: 3 }).catch((e: unknown) => e);
    await clock.tick(3);
    expect(await out).toMatchObject({ name: 'TimeoutError' });
    expect(clock.pending()).toBe(0); // the carrier's timer was cleared by the abort
  });

  it('rejects an invalid order with ValidationError, before any other step runs', async () => {
    const error = await quoteOrder.run({ id: '', items: [] }).catch((e: unknown) => e);
    expect(isValidationError(error)).toBe(true);
    expect(events.of('step.started').map((e) => e.step)).toEqual(['validate']);
  });
});
