import type { FastifyInstance } from 'fastify';
import { sendError } from './plumbing.js';

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
    if (status === 500) request.log.error({ err: error }, 'unhandled error');
    const code = status === 400 && error.code?.includes('JSON') ? 'invalid_json' : status === 500 ? 'internal_error' : 'bad_request';
    return sendError(reply, status, code, status === 500 ? 'Unexpected error; see the logs under this correlation ID.' : error.message);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', `No route ${request.method} ${request.url}. ${options.notFoundHint}`));
}
