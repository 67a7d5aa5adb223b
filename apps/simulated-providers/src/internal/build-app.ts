import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { extract } from '@weft/http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { chatCompletionChunks, chatCompletionRequestSchema, completeChat, type ChatCompletionRequest, type ChatCompletionResponse } from '../chat-completion.js';
import { behaviourPatchSchema, type SimulatedErrorStatus } from '../provider-config.js';
import { formatZodError } from './format-zod-error.js';
import { sendError } from './openai-error.js';
import type { ProviderState } from './provider-state.js';
import { parseSimHeaders } from './sim-headers.js';
import { Waits } from './waits.js';

type ProviderRequest = FastifyRequest<{ Params: { provider: string } }>;

/** `created` of every listed model: fixed, so `/v1/models` is byte-for-byte deterministic. */
const MODEL_CREATED = 1_700_000_000;

const FAILURES: Record<SimulatedErrorStatus, { code: string; message: (name: string) => string }> = {
  429: { code: 'rate_limit_exceeded', message: (name) => `Rate limit reached for simulated provider ${name}.` },
  500: { code: 'internal_error', message: (name) => `Simulated provider ${name} had an internal error.` },
  503: { code: 'service_unavailable', message: (name) => `Simulated provider ${name} is overloaded.` },
};

function notFound(reply: FastifyReply, name: string): FastifyReply {
  return sendError(reply, 404, 'provider_not_found', `No simulated provider is named ${JSON.stringify(name)}.`);
}

/**
 * Applies what every provider route shares: 503 when the provider is down, then (when `auth`) 401
 * when its key is missing or wrong. Returns false once an error has been sent.
 */
function admit(state: ProviderState, request: FastifyRequest, reply: FastifyReply, auth: boolean): boolean {
  reply.header('x-sim-provider', state.name);
  if (state.behaviour.down) {
    sendError(reply, 503, 'provider_down', `Simulated provider ${state.name} is down.`);
    return false;
  }
  if (!auth) return true;
  const verdict = state.authorise(request.headers.authorization);
  if (verdict === 'ok') return true;
  sendError(
    reply,
    401,
    'invalid_api_key',
    verdict === 'missing' ? 'You did not provide an API key. Send it as "Authorization: Bearer <key>".' : 'Incorrect API key provided.',
  );
  return false;
}

/** Builds the Fastify app serving every provider under `/p/<name>/`, plus `/health` and `/admin/providers`. */
export function buildApp(providers: ReadonlyMap<string, ProviderState>, logger: boolean): FastifyInstance {
  const app = Fastify({ logger });
  const waits = new Waits();
  // Cut pending latency waits short before Fastify waits for in-flight requests to finish (they
  // answer 503 at once). Then keep closing connections as they turn idle, and after a second close
  // the rest: a caller that connected and then gave up before sending its request (a hedge's loser,
  // say) leaves a socket Node counts as busy until its 60 s headers timeout, and close() waited for it.
  app.addHook('preClose', (done) => {
    waits.closeAll();
    let ticks = 0;
    const sweeper = setInterval(() => {
      if (++ticks >= 50) app.server.closeAllConnections();
      else app.server.closeIdleConnections();
    }, 20);
    sweeper.unref();
    app.server.once('close', () => clearInterval(sweeper));
    done();
  });

  // A SERVER span per provider call, child of the caller's traceparent, so a trace runs from the
  // gateway through to the provider as it would with a real one (a no-op without an SDK).
  const tracer = trace.getTracer('@weft/simulated-providers', '0.1.0');
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.url.startsWith('/p/')) return done();
    const { context: parent } = extract(request.headers, { baggage: false, context: ROOT_CONTEXT });
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer.startSpan(`${request.method} ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route } }, parent);
    // 'close' fires for every ending: answered, streamed, or dropped by the client.
    reply.raw.once('close', () => {
      span.setAttribute('http.response.status_code', reply.raw.statusCode);
      if (reply.raw.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    done();
  });

  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) app.log.error(error);
    sendError(reply, status, status < 500 ? 'invalid_request' : 'internal_error', error.message ?? 'Unexpected error.');
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, 404, 'not_found', `Unknown route ${request.method} ${request.url}. Providers live under /p/<name>/v1.`);
  });

  app.get('/health', () => ({
    status: 'ok',
    providers: Object.fromEntries([...providers.values()].map((state) => [state.name, state.behaviour.down ? 'down' : 'up'])),
  }));

  app.get('/p/:provider/health', async (request: ProviderRequest, reply) => {
    const state = providers.get(request.params.provider);
    if (state === undefined) return notFound(reply, request.params.provider);
    if (!admit(state, request, reply, false)) return reply;
    return { status: 'ok' };
  });

  app.get('/p/:provider/v1/models', async (request: ProviderRequest, reply) => {
    const state = providers.get(request.params.provider);
    if (state === undefined) return notFound(reply, request.params.provider);
    if (!admit(state, request, reply, true)) return reply;
    return { object: 'list', data: state.models.map((id) => ({ id, object: 'model', created: MODEL_CREATED, owned_by: state.name })) };
  });

  /**
   * Streams an answer as server-sent events, a token every `tokenLatencyMs`: drops the connection
   * after `failAfterTokens` tokens (a mid-stream fault), and counts a client that leaves before
   * the end as a cancelled stream. Resolves with the outcome for the stats.
   */
  async function streamChat(state: ProviderState, request: ProviderRequest, reply: FastifyReply, body: ChatCompletionRequest, id: string, tokenLatencyMs: number, failAfterTokens: number): Promise<number | 'disconnected'> {
    const chunks = chatCompletionChunks(state.name, body, id, Math.floor(Date.now() / 1000));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-sim-provider': state.name });
    let tokens = 0;
    for (const [i, chunk] of chunks.entries()) {
      const isToken = chunk.choices[0]?.delta.content !== undefined && chunk.choices[0].delta.content !== '';
      if (isToken) {
        if (failAfterTokens >= 0 && tokens >= failAfterTokens) {
          // Let what was written reach the client, then drop the connection mid-answer.
          await new Promise<void>((resolve) => res.write(': fault\n\n', () => resolve()));
          res.destroy();
          return 500;
        }
        if (i > 0 && tokenLatencyMs > 0) {
          const outcome = await waits.wait(tokenLatencyMs, request.raw, res);
          if (outcome !== 'elapsed') {
            if (outcome === 'disconnected') state.streamCancelled();
            res.destroy();
            return 'disconnected';
          }
        }
        tokens++;
      }
      if (res.destroyed || res.writableEnded) {
        state.streamCancelled();
        return 'disconnected';
      }
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
    return 200;
  }

  /** Answers one chat completion; returns `'disconnected'` when the client left during the wait. */
  async function answerChat(state: ProviderState, request: ProviderRequest, reply: FastifyReply): Promise<FastifyReply | ChatCompletionResponse | 'disconnected' | 'streamed'> {
    if (!admit(state, request, reply, true)) return reply;
    const sim = parseSimHeaders(request.headers);
    if (typeof sim === 'string') return sendError(reply, 400, 'invalid_sim_header', sim);
    const parsed = chatCompletionRequestSchema.safeParse(request.body);
    if (!parsed.success) return sendError(reply, 400, 'invalid_request', `Invalid chat completion request: ${formatZodError(parsed.error, 'body')}`);

    const draw = state.draw();
    const { latencyMs, errorStatus, retryAfterSeconds } = state.behaviour;
    const outcome = await waits.wait(sim.latencyMs ?? latencyMs + draw.jitterMs, request.raw, reply.raw);
    if (outcome === 'disconnected') return outcome;
    if (outcome === 'closing') {
      reply.header('connection', 'close');
      return sendError(reply, 503, 'shutting_down', 'The simulated providers are shutting down.');
    }
    const fail = sim.fail ?? draw.fails;
    if (fail !== false) {
      const status = fail === true ? errorStatus : fail;
      if (status === 429) reply.header('retry-after', String(retryAfterSeconds));
      const failure = FAILURES[status];
      return sendError(reply, status, failure.code, failure.message(state.name));
    }
    const id = `chatcmpl-sim-${state.name}-${draw.sequence}`;
    if (parsed.data.stream === true) {
      const outcome = await streamChat(state, request, reply, parsed.data, id, sim.tokenLatencyMs ?? state.behaviour.tokenLatencyMs, sim.failAfterTokens ?? state.behaviour.failAfterTokens);
      streamed.set(request, outcome);
      return 'streamed';
    }
    return completeChat(state.name, parsed.data, id, Math.floor(Date.now() / 1000));
  }
  const streamed = new WeakMap<FastifyRequest, number | 'disconnected'>();

  app.post('/p/:provider/v1/chat/completions', async (request: ProviderRequest, reply) => {
    const state = providers.get(request.params.provider);
    if (state === undefined) return notFound(reply, request.params.provider);
    state.start();
    let result: Awaited<ReturnType<typeof answerChat>>;
    try {
      result = await answerChat(state, request, reply);
    } catch (error) {
      state.finish(500);
      throw error;
    }
    if (result === 'streamed') {
      state.finish(streamed.get(request) ?? 200);
      return reply;
    }
    state.finish(result === 'disconnected' ? 'disconnected' : reply.statusCode);
    if (result !== 'disconnected') return result;
    // Nobody is listening any more: tell Fastify not to answer, and drop the socket so a keep-alive
    // connection whose request was abandoned never holds up close().
    reply.hijack();
    reply.raw.destroy();
    return reply;
  });

  app.get('/admin/providers', () => ({
    providers: Object.fromEntries([...providers.values()].map((state) => [state.name, { behaviour: state.behaviour, stats: state.stats }])),
  }));

  app.get('/admin/providers/:provider', async (request: ProviderRequest, reply) => {
    const state = providers.get(request.params.provider);
    if (state === undefined) return notFound(reply, request.params.provider);
    return { behaviour: state.behaviour, stats: state.stats };
  });

  app.put('/admin/providers/:provider', async (request: ProviderRequest, reply) => {
    const state = providers.get(request.params.provider);
    if (state === undefined) return notFound(reply, request.params.provider);
    const parsed = behaviourPatchSchema.safeParse(request.body, { reportInput: true });
    if (!parsed.success) return sendError(reply, 400, 'invalid_request', formatZodError(parsed.error, 'body'));
    const behaviour = state.configure(parsed.data);
    app.log.info({ provider: state.name, behaviour }, 'provider reconfigured');
    return { behaviour, stats: state.stats };
  });

  return app;
}
