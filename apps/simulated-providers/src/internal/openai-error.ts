import type { FastifyReply } from 'fastify';
import type { OpenAiErrorBody } from '../chat-completion.js';

function typeFor(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Sends `{ error: { message, type, code } }` with `status`; the type follows the status the way OpenAI's does. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: OpenAiErrorBody = { error: { message, type: typeFor(status), code } };
  return reply.code(status).send(body);
}
