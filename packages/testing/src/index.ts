/**
 * `@weft/testing`: test Weft workflows deterministically, under any test runner (nothing here
 * imports one). A virtual clock for every Weft timer, an event recorder, an in-memory
 * OpenTelemetry SDK with span trees, Prometheus metric readers and scripted steps.
 *
 * @packageDocumentation
 */
export { testClock, type TestClock, type TestClockOptions } from './test-clock.js';
export { captureEvents, type EventCapture, type EventOfType } from './capture-events.js';
export { parentSpanId, recordSpans, type SpanNode, type SpanRecording } from './record-spans.js';
export { metricsOf, type HistogramReading, type MetricSeries, type MetricsReader, type MetricsRegistry } from './metrics-of.js';
export { scriptedStep, type ScriptedCall, type ScriptedStep, type ScriptEntry } from './scripted-step.js';
