import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { installTracing, parentId } from './tracing.js';

describe('installTracing', () => {
  const tracing = installTracing();
  afterAll(() => tracing.shutdown());

  it('collects finished spans, with children pointing at their parent', () => {
    const tracer = trace.getTracer('test');
    tracer.startActiveSpan('parent', (parent) => {
      tracer.startSpan('child').end();
      parent.end();
    });
    const [child, parent] = tracing.spans();
    expect(child?.name).toBe('child');
    expect(parentId(child!)).toBe(parent?.spanContext().spanId);
    expect(parentId(parent!)).toBeUndefined();
  });
});
