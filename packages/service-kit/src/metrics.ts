import { HTTP_BUCKETS, WeftCollector, type DeclaredWorkflow } from '@weft/prometheus';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** A service's metrics: Weft's, the process defaults, and HTTP requests. */
export interface Metrics {
  readonly registry: Registry;
  /** Records one finished HTTP request (status 499 when its client gave up first). */
  observe(method: string, route: string, status: number, seconds: number): void;
  /** Creates a route's request series at 0 (its duration, and the 5xx and 499 counts panels divide by). */
  declareRoute(method: string, route: string): void;
  /** Creates at 0 every Weft series a workflow's named parts can produce (see `WeftCollector.declare`). */
  declare(workflow: DeclaredWorkflow): void;
  /** Unsubscribes Weft's collector. */
  stop(): void;
}

/**
 * A registry of its own (never prom-client's global one) holding Weft's workflow metrics, the
 * process and Node.js defaults, and `http_server_requests_total` / `http_server_request_duration_seconds`.
 *
 * @example
 * ```ts
 * const metrics = createMetrics('gateway');
 * app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
 * ```
 */
export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const collector = new WeftCollector({ registry }).start();
  const requests = new Counter({ name: 'http_server_requests_total', help: 'HTTP requests, by method, route and status (499: the client closed the connection before the answer).', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [...HTTP_BUCKETS],
    registers: [registry],
  });
  return {
    registry,
    observe: (method, route, status, seconds) => {
      try {
        requests.inc({ method, route, status: String(status) });
        duration.observe({ method, route }, seconds);
      } catch {
        // telemetry never breaks a request
      }
    },
    declareRoute: (method, route) => {
      requests.inc({ method, route, status: '500' }, 0);
      requests.inc({ method, route, status: '499' }, 0);
      duration.zero({ method, route });
    },
    declare: (workflow) => {
      collector.declare(workflow);
    },
    stop: () => collector.stop(),
  };
}
