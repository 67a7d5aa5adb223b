import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('createMetrics', () => {
  it('records requests in a registry of its own, labelled with the service', async () => {
    const metrics = createMetrics('orders');
    try {
      metrics.observe('POST', '/v1/orders', 201, 0.02);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/http_server_requests_total\{method="POST",route="\/v1\/orders",status="201",service="orders"\} 1/);
      expect(text).toMatch(/http_server_request_duration_seconds_count\{service="orders",method="POST",route="\/v1\/orders"\} 1/);
      expect(text).toContain('process_cpu_user_seconds_total');
    } finally {
      metrics.stop();
    }
  });

  it('never throws from observe, even for values prom-client rejects', () => {
    const metrics = createMetrics('gateway');
    try {
      expect(() => metrics.observe('GET', '/x', 200, Number.NaN)).not.toThrow();
    } finally {
      metrics.stop();
    }
  });
});
