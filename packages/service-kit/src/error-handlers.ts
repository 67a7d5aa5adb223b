import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CORRELATION_ID_HEADER } from '@weft/http';
import { sendError } from './plumbing.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** What {@link installErrorHandlers} says about unknown routes. */
export interface ErrorHandlerOptions {
  /** Appended to the 404 message, such as `Try POST /v1/orders.` */
  readonly notFoundHint: string;
}

/**
 * Answers errors and unknown routes with the shared JSON error body: client errors (4xx) keep their
 * status and message (`invalid_json` for a malformed body, else `bad_request`); anything else is
 * logged and answered 500 `internal_error` without details; unknown routes get 404 `not_found`.
 *
 * @example
 * ```ts
 * installErrorHandlers(app, { notFoundHint: 'Try POST /v1/answer.' });
 * ```
 */
export function installErrorHandlers(app: FastifyInstance, options: ErrorHandlerOptions): void {
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    // A client's mistake is expected: logged at info, without a stack. Only our own failures are errors.
    if (status === 500) request.log.error({ err: error }, 'unhandled error');
    else request.log.info({ status, code: error.code }, 'client error');
    const code = status === 400 && error.code?.includes('JSON') ? 'invalid_json' : status === 500 ? 'internal_error' : 'bad_request';
    return sendError(reply, status, code, status === 500 ? 'Unexpected error; see the logs under this correlation ID.' : error.message);
  });
  // Route patterns by method, to answer 405 with `Allow` when the path exists under another method.
  const routes: Array<{ pattern: RegExp; method: string }> = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+').replace(/\*/g, '.*')}$`);
    for (const method of [route.method].flat()) routes.push({ pattern, method: String(method).toUpperCase() });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request);
    const allowed = path === undefined ? [] : METHODS.filter((m) => routes.some((r) => r.method === m && r.pattern.test(path)));
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(reply, 405, 'method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(' or ')}.`);
    }
    return sendError(reply, 404, 'not_found', `No route ${request.method} ${request.url.slice(0, 200)}. ${options.notFoundHint}`);
  });
}

/** The request's path, decoded as the router decodes it; undefined when it cannot be decoded. */
function pathOf(request: FastifyRequest): string | undefined {
  const raw = request.url.replace(/^[a-z]+:\/\/[^/]+/i, '').split('?')[0]!;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * Fastify's `frameworkErrors` option: errors Fastify raises before any route runs (a URL that
 * cannot be decoded, a bad content type) answered with the shared error shape and the correlation
 * ID, like every other error, instead of Fastify's own body.
 *
 * @example
 * ```ts
 * const app = Fastify({ genReqId: correlationIdOf, frameworkErrors });
 * ```
 */
export function frameworkErrors(error: Error & { statusCode?: number; code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  request.log.info({ status, code: error.code }, 'malformed request');
  const code = error.code === 'FST_ERR_BAD_URL' ? 'bad_url' : 'bad_request';
  // Fastify's hooks do not run for these: echo the correlation ID here.
  reply.header(CORRELATION_ID_HEADER, request.id);
  void sendError(reply, status, code, code === 'bad_url' ? 'The request URL could not be decoded.' : 'The request could not be read.');
}
