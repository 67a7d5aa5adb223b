import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Socket } from 'node:net';
import cors from '@fastify/cors';
import { context, SpanKind, SpanStatusCode, trace, isSpanContextValid, type Context, type Span } from '@opentelemetry/api';
import { CORRELATION_ID_HEADER, extract, formatTraceparent, parseTraceparent } from '@weft/http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The OpenTelemetry context to run the request's workflow in: its SERVER span, child of the caller's. */
    otel: Context;
    /** The request's SERVER span (non-recording without an SDK). */
    span: Span | undefined;
    /** `process.hrtime.bigint()` when the request arrived. */
    startedAt: bigint;
    /** Whether the request was already counted (as answered, or as 499 when its client gave up). */
    counted: boolean;
  }
}

const tracer = trace.getTracer('@weft/apps', '0.1.0');

/**
 * The request ID Fastify logs as `correlation_id`: the caller's `x-correlation-id` when valid, else a
 * fresh one (never the malformed value). Pass it as `genReqId`.
 *
 * @example
 * ```ts
 * Fastify({ genReqId: correlationIdOf, requestIdLogLabel: 'correlation_id' });
 * ```
 */
export function correlationIdOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  return extract(req.headers, { trace: false, baggage: false }).correlationId;
}

/**
 * Adds the cross-cutting HTTP behaviour every service shares: echoes `x-correlation-id` (the request ID)
 * and `traceparent` (the SERVER span's, or the caller's when nothing records), sets `x-response-time`,
 * opens a SERVER span joined to the caller's trace, and records request metrics.
 *
 * @example
 * ```ts
 * installPlumbing(app, metrics);
 * ```
 */
export function installPlumbing(app: FastifyInstance, metrics: Metrics, access: { readonly corsOrigins?: readonly string[]; readonly metricsToken?: string | undefined } = {}): void {
  // Browsers: only the listed origins, and none unless configured.
  if (access.corsOrigins !== undefined && access.corsOrigins.length > 0) {
    void app.register(cors, { origin: [...access.corsOrigins], methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type', 'x-api-key', 'x-correlation-id', 'traceparent'], exposedHeaders: ['x-correlation-id', 'retry-after'], maxAge: 600 });
  }
  const metricsDigest = access.metricsToken === undefined ? undefined : digest(access.metricsToken);
  app.decorateRequest('otel', undefined as unknown as Context);
  app.decorateRequest('span', undefined);
  app.decorateRequest('startedAt', 0n);
  app.decorateRequest('counted', false);
  // Every route's series exist from the first scrape: 0, not "No data".
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) if (method !== 'HEAD') metrics.declareRoute(method, route.url);
  });

  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = process.hrtime.bigint();
    reply.header(CORRELATION_ID_HEADER, request.id);
    const { context: parent, parent: caller } = extract(request.headers, { baggage: true });
    const span = tracer.startSpan(`${request.method} ${request.routeOptions.url ?? 'unknown'}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'weft.correlation_id': request.id } }, parent);
    request.span = span;
    const sc = span.spanContext();
    if (isSpanContextValid(sc)) {
      request.otel = trace.setSpan(parent, span);
      reply.header('traceparent', formatTraceparent(sc));
    } else {
      // Nothing records and there is no valid parent, so the span is an invalid, non-recording one:
      // a context holding it parents new spans exactly like one without it, and it is not worth a
      // Context per request. Echo the caller's traceparent, or nothing rather than an invalid header.
      request.otel = parent;
      // `extract` joins a repeated header (and so rejects it); the echo takes the first value.
      const traceparent = request.headers.traceparent;
      const inbound = caller ?? (Array.isArray(traceparent) ? parseTraceparent(traceparent[0]) : undefined);
      if (inbound !== undefined) reply.header('traceparent', formatTraceparent(inbound));
    }
    // RFC 9112 §3.2: a request with more than one Host header gets 400. Node keeps the first and
    // drops the rest, so a proxy that routes on the last one would disagree with us about the host.
    if (repeatsHost(request.raw.rawHeaders)) {
      sendError(reply, 400, 'bad_request', 'The request has more than one Host header.');
      return;
    }
    done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const ms = Number(process.hrtime.bigint() - request.startedAt) / 1e6;
    reply.header('x-response-time', `${ms.toFixed(1)}ms`);
    done(null, payload);
  });

  // A client that gives up before its answer is counted too, as 499 with the time it waited: in a
  // brownout those are exactly the slowest requests, and leaving them out flatters the service.
  app.addHook('onRequestAbort', (request, done) => {
    if (request.counted) return done();
    request.counted = true;
    const seconds = Number(process.hrtime.bigint() - request.startedAt) / 1e9;
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, CLIENT_CLOSED_REQUEST, seconds);
    const log = request.log;
    if (infoEnabled(log)) log.info({ method: request.method, route, status_code: CLIENT_CLOSED_REQUEST, duration_ms: Math.round(seconds * 1e6) / 1e3 }, 'request aborted by the client');
    const span = request.span;
    if (span !== undefined) {
      try {
        span.setAttribute('http.response.status_code', CLIENT_CLOSED_REQUEST);
        span.setAttribute('http.route', route);
        span.end();
      } catch {
        // telemetry never breaks a request
      }
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (request.counted) return done();
    request.counted = true;
    const seconds = Number(process.hrtime.bigint() - request.startedAt) / 1e9;
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, seconds);
    // One line per request, with the route pattern rather than the raw URL: a URL carries client
    // input (unknown paths, query strings) that must never reach the logs. Apps create Fastify with
    // `disableRequestLogging: true` so Fastify's own raw-URL lines are not written. The line's
    // fields are built only when info is logged.
    const log = request.log;
    if (infoEnabled(log)) log.info({ method: request.method, route, status_code: reply.statusCode, duration_ms: Math.round(seconds * 1e6) / 1e3 }, 'request completed');
    const span = request.span;
    if (span !== undefined) {
      try {
        span.setAttribute('http.response.status_code', reply.statusCode);
        span.setAttribute('http.route', route);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      } catch {
        // telemetry never breaks a request
      }
    }
    done();
  });

  app.get('/health/live', PUBLIC, () => ({ status: 'ok' }));
  app.get('/metrics', PUBLIC, async (request, reply) => {
    if (metricsDigest !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (match === null || !timingSafeEqual(digest(match[1]!), metricsDigest)) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(reply, 401, 'unauthorized', 'The metrics need "Authorization: Bearer <METRICS_TOKEN>".');
      }
    }
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}

/**
 * Fastify options that bound how long a client may hold a connection: the whole request (headers
 * and body) within `httpRequestTimeoutMs` (a body trickled a byte at a time is cut off, with 408),
 * headers within `httpHeadersTimeoutMs`, idle keep-alive connections closed after
 * `httpKeepAliveTimeoutMs`. Node checks the request limits every `checkEveryMs` (a quarter of the
 * headers limit, at most a second), so a cut lands within that of the limit.
 *
 * @example
 * ```ts
 * const app = Fastify({ ...httpLimits(config), genReqId: correlationIdOf });
 * ```
 */
export function httpLimits(config: { readonly httpRequestTimeoutMs: number; readonly httpHeadersTimeoutMs: number; readonly httpKeepAliveTimeoutMs: number }): {
  requestTimeout: number;
  keepAliveTimeout: number;
  serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server;
} {
  const checkEveryMs = Math.max(50, Math.min(1_000, Math.floor(config.httpHeadersTimeoutMs / 4)));
  return {
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    serverFactory: (handler) =>
      createServer({ requestTimeout: config.httpRequestTimeoutMs, headersTimeout: config.httpHeadersTimeoutMs, keepAliveTimeout: config.httpKeepAliveTimeoutMs, connectionsCheckingInterval: checkEveryMs }, handler),
  };
}

/** Whether the raw header list (name, value, name, value, ...) names Host more than once. */
function repeatsHost(raw: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (seen) return true;
      seen = true;
    }
  }
  return false;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The status nginx made conventional for a request whose client closed the connection before the answer. */
const CLIENT_CLOSED_REQUEST = 499;

/** Route options that mark a route public: no API key needed. Every other route needs one. */
export const PUBLIC = { config: { public: true } } as const;

/**
 * Whether the route Fastify matched for this request is marked {@link PUBLIC}. Decided on the
 * matched route (Fastify has decoded and routed the URL), never on the raw URL, so an encoded,
 * absolute-form or otherwise disguised path cannot slip past an auth check. A request no route
 * matched is not public either: it gets the 404 handler, which runs no workflow.
 *
 * @example
 * ```ts
 * app.addHook('onRequest', (request, reply, done) => (isPublicRoute(request) ? done() : authenticate(request, reply, done)));
 * ```
 */
export function isPublicRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { public?: unknown } | undefined)?.public === true;
}

/** Whether Fastify matched a route for this request (false: the 404 handler answers). */
export function matchedRoute(request: FastifyRequest): boolean {
  return request.routeOptions.url !== undefined;
}

/**
 * Runs `fn` in the request's trace context, so the workflow's spans are children of the SERVER span.
 *
 * @example
 * ```ts
 * const out = await inRequestContext(request, () => flow.run(body, { correlationId: request.id }));
 * ```
 */
export function inRequestContext<T>(request: FastifyRequest, fn: () => T): T {
  return context.with(request.otel ?? context.active(), fn);
}

/** Where a connection keeps its {@link clientGone} signal. */
const CLIENT_GONE = Symbol('weft.client-gone');
type Connection = Socket & { [CLIENT_GONE]?: AbortSignal };
const CLIENT_CLOSED = 'The client closed the connection';

/**
 * An AbortSignal that fires when the client goes away before the reply is sent, so the workflow
 * (and its provider calls) stop.
 *
 * An HTTP/1 response can only fail to finish because its connection closed, so the signal belongs
 * to the connection: it is made once per keep-alive connection, not once per request (an
 * AbortController and a 'close' listener per request cost about 3-4 µs of CPU).
 * A request whose reply was sent never sees it fire: its run has settled before the reply is sent.
 *
 * @example
 * ```ts
 * await flow.run(input, { signal: clientGone(reply) });
 * ```
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  // The request's socket, not the response's: a pipelined response gets its socket only when the
  // responses before it are done.
  const raw = reply.request.raw;
  const socket = raw.socket as Connection | null;
  // HTTP/2 streams share a socket and end on their own; injected requests have no real socket.
  if (raw.httpVersionMajor !== 1 || !(socket instanceof Socket)) return responseGone(reply);
  let signal = socket[CLIENT_GONE];
  if (signal === undefined) {
    const controller = new AbortController();
    signal = controller.signal;
    socket[CLIENT_GONE] = signal;
    if (socket.destroyed) controller.abort(new Error(CLIENT_CLOSED));
    else socket.once('close', () => controller.abort(new Error(CLIENT_CLOSED)));
  }
  return signal;
}

/** The signal of one response, for HTTP/2 and for requests without a real socket (injected ones). */
function responseGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort(new Error(CLIENT_CLOSED));
  };
  // The response's 'close', not the request's: the request closes as soon as its body is read.
  reply.raw.once('close', onClose);
  return controller.signal;
}

/**
 * Sends a JSON error body every endpoint shares: `{ error, message, correlationId }` plus extras.
 *
 * @example
 * ```ts
 * return sendError(reply, 503, 'not_ready', 'shutting down', { status: 'unavailable' });
 * ```
 */
export function sendError(reply: FastifyReply, status: number, error: string, message: string, extra?: Record<string, unknown>): FastifyReply {
  return reply.code(status).type('application/json').send({ error, message, correlationId: reply.request.id, ...extra });
}

/** Whether a request logger writes info lines (pino's `isLevelEnabled`; assumed so for a logger without it). */
function infoEnabled(log: FastifyBaseLogger): boolean {
  const enabled = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof enabled !== 'function' || enabled.call(log, 'info');
}
