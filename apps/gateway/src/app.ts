import { isAbortedError, isBudgetExceededError, isFallbackError, isRateLimitedError, isRetryExhaustedError, isTimeoutError, isValidationError } from '@weft/core';
import { createFetch, type WeftFetch } from '@weft/http';
import { fromPino, logEvents, weftPinoOptions } from '@weft/log';
import { clientGone, correlationIdOf, createMetrics, frameworkErrors, httpLimits, inRequestContext, installErrorHandlers, installPlumbing, installReadiness, isPublicRoute, matchedRoute, redisReadiness, sendError } from '@weft/service-kit';
import type { SimulatedProviders } from '@weft/simulated-providers';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { destination, pino, type DestinationStream } from 'pino';
import { loadApiKeys, presentedKey, type ApiKey, type ApiKeys } from './auth.js';
import type { GatewayConfig, ProviderConfig } from './config.js';
import { startDemoProviders } from './providers/simulated.js';
import { createStores, type Stores } from './stores.js';
import { buildAnswerWorkflow, KEY_ID_ATTRIBUTE, priceTable, type AnswerWorkflow } from './workflow.js';
import { buildChatWorkflow, chatRequestSchema, tierOf, type ChatChunk, type ChatRequest } from './chat.js';
import type { StreamPrimitive } from '@weft/core/stream';

/** What a running gateway holds, for `main.ts`, the load script and tests. */
interface GatewayState {
  readonly config: GatewayConfig;
  /** The embedded simulated providers (demo mode only). */
  readonly simulated: SimulatedProviders | undefined;
  readonly providers: readonly ProviderConfig[];
  readonly keys: ApiKeys;
  /** Whether the keys are the built-in demo keys. */
  readonly demoKeys: boolean;
  readonly stores: Stores;
  readonly workflow: AnswerWorkflow;
  /** Set once shutdown begins: readiness answers 503 from then on. */
  shuttingDown: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's state. */
    gateway: GatewayState;
  }
  interface FastifyRequest {
    /** The caller's API key, set by the auth hook on `/v1/*`. */
    apiKey: ApiKey | undefined;
  }
}

/** Extra wiring for tests and embedders. */
export interface BuildAppOptions {
  /** Environment for `SIM_*` variables of the demo providers. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where logs go. @default standard output */
  readonly logDestination?: DestinationStream;
  /** The fetch providers are called through. @default a Weft fetch that propagates context only to providers with `propagateContext` */
  readonly fetch?: WeftFetch;
}

/** The longest a readiness probe waits for Redis. */
const READY_TIMEOUT_MS = 500;

/**
 * Builds the gateway: stores (memory or Redis), API keys, the embedded simulated providers in demo
 * mode, the answer workflow, metrics, logs, and the Fastify routes. It does not listen; closing the
 * app closes everything it started (the simulated providers, Redis, the metrics subscription).
 *
 * @example
 * ```ts
 * const app = await buildApp(loadConfig());
 * await app.listen({ port: app.gateway.config.port, host: app.gateway.config.host });
 * ```
 */
export async function buildApp(config: GatewayConfig, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const demo = config.providerMode === 'simulated';
  const { keys, demo: demoKeys } = loadApiKeys(config, config.dailyBudgetUsd, demo);
  const logger = pino(weftPinoOptions({ level: config.logLevel, name: 'gateway' }), options.logDestination ?? destination(1));
  const stores = createStores({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, cacheLocal: { max: config.cacheLocalMax, localTtlMs: config.cacheLocalTtlMs }, onRedisError: (error) => logger.warn({ err: error }, 'redis connection error') });
  let simulated: SimulatedProviders | undefined;
  let providers = config.providers;
  try {
    if (demo) {
      const started = await startDemoProviders(config.simPort, options.env ?? process.env, config.simHost);
      simulated = started.sim;
      providers = started.providers;
    }
  } catch (error) {
    await stores.close();
    throw error;
  }
  let workflow: AnswerWorkflow;
  let chat: StreamPrimitive<ChatRequest, ChatChunk>;
  // The caller's correlation ID, trace context and baggage go only to providers that opted in.
  const sharing = new Set(providers.filter((p) => p.propagateContext === true).map((p) => new URL(p.baseUrl).origin));
  const providerFetch = options.fetch ?? createFetch({ propagate: (url) => sharing.has(url.origin) });
  try {
    workflow = buildAnswerWorkflow({ config, providers, keys: keys.list(), stores, fetch: providerFetch });
    chat = buildChatWorkflow({ config, providers, keys: keys.list(), stores, fetch: providerFetch, prices: priceTable(providers), breakers: workflow.breakers, bulkheads: workflow.bulkheads });
  } catch (error) {
    await Promise.all([stores.close(), simulated?.close()]);
    throw error;
  }

  const metrics = createMetrics('gateway');
  // Every series the workflows can produce exists at 0 from the first scrape.
  const providerSteps = providers.map((p) => `provider.${p.name}`);
  const parts = { retries: providerSteps, timeouts: providerSteps, breakers: providerSteps, bulkheads: providerSteps, hedges: providerSteps, fallbacks: providerSteps.map((step) => ({ step, alternatives: providers.length - 1 })), budgets: ['daily'] };
  metrics.declare({ workflow: 'answer', ...parts, caches: ['answers'], rateLimiters: ['ratelimit.per_key'] });
  metrics.declare({ workflow: 'chat', ...parts, caches: ['chat'], rateLimiters: ['ratelimit.chat.per_key'], streams: providerSteps });
  const stopEventLogs = logEvents(fromPino(logger), { levels: { 'run.started': 'silent', 'step.started': 'silent' } });
  // Typed as Fastify's base logger, so the app is a plain FastifyInstance rather than one generic over pino's Logger.
  const loggerInstance: FastifyBaseLogger = logger;
  const app = Fastify({
    ...httpLimits(config),
    loggerInstance,
    genReqId: correlationIdOf,
    frameworkErrors,
    logController: new LogController({ requestIdLogLabel: 'correlation_id', disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
  });
  const state: GatewayState = { config, simulated, providers, keys, demoKeys, stores, workflow, shuttingDown: false };
  app.decorate('gateway', state);
  app.decorateRequest('apiKey', undefined);
  installPlumbing(app, metrics, config);

  app.addHook('onClose', async () => {
    state.shuttingDown = true;
    stopEventLogs();
    metrics.stop();
    workflow.stop();
    await Promise.all([stores.close(), simulated?.close()]);
  });

  installErrorHandlers(app, { notFoundHint: 'Try POST /v1/answer.' });

  installReadiness(app, { shuttingDown: () => state.shuttingDown, checks: { redis: stores.redis && redisReadiness(stores.redis, READY_TIMEOUT_MS) } });

  // API-key auth runs before the body is parsed, so an anonymous caller learns nothing from 400s.
  // It is decided on the route Fastify matched (decoded and routed), never on the raw URL: every
  // route needs a key unless it is marked PUBLIC. A request no route matched gets the 404 handler.
  app.addHook('onRequest', (request, reply, done) => {
    if (!matchedRoute(request) || isPublicRoute(request)) return done();
    // OpenAI's clients read OpenAI's error shape.
    const openAiRoute = request.routeOptions.url === '/v1/chat/completions';
    const presented = presentedKey(request.headers);
    if (presented === undefined) {
      reply.header('www-authenticate', 'Bearer');
      const message = 'Missing API key: send "Authorization: Bearer <key>" or "x-api-key: <key>".';
      return void (openAiRoute ? openAiError(reply, 401, 'invalid_request_error', 'missing_api_key', message) : sendError(reply, 401, 'unauthorized', message));
    }
    const key = keys.find(presented);
    if (key === undefined) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return void (openAiRoute ? openAiError(reply, 401, 'invalid_request_error', 'invalid_api_key', 'Invalid API key.') : sendError(reply, 401, 'unauthorized', 'Invalid API key.'));
    }
    request.apiKey = key;
    done();
  });

  app.post('/v1/answer', async (request, reply) => {
    const key = keyOf(request);
    try {
      const result = await inRequestContext(request, () =>
        workflow.answer.runDetailed(request.body, {
          correlationId: request.id,
          attributes: { [KEY_ID_ATTRIBUTE]: key.id, 'gateway.key_name': key.name },
          timeout: config.requestTimeoutMs,
          signal: clientGone(reply),
          workflow: 'answer',
        }),
      );
      const out = result.output;
      return {
        answer: out.answer,
        provider: out.provider,
        model: out.model,
        cached: out.runId !== result.runId,
        cost: { amount: result.cost.total, currency: result.cost.currency },
        correlationId: result.correlationId,
      };
    } catch (error) {
      return replyToFailure(error, key, reply);
    }
  });

  const collected = chat.collect();
  app.post('/v1/chat/completions', async (request, reply) => {
    const key = keyOf(request);
    const parsed = chatRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return openAiError(reply, 400, 'invalid_request_error', 'invalid_request', `${issue?.path.map(String).join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`);
    }
    const body = parsed.data;
    const tier = tierOf(body.model);
    if (tier === undefined) return openAiError(reply, 404, 'invalid_request_error', 'model_not_found', 'The model must be a tier: economy, standard or premium (or weft-<tier>).');
    const req: ChatRequest = { tier, messages: body.messages, maxTokens: Math.min(body.max_completion_tokens ?? body.max_tokens ?? config.maxTokens, config.maxTokens) };
    const runOptions = {
      correlationId: request.id,
      attributes: { [KEY_ID_ATTRIBUTE]: key.id, 'gateway.key_name': key.name },
      timeout: config.requestTimeoutMs,
      signal: clientGone(reply),
      workflow: 'chat',
    };
    const id = `chatcmpl-${request.id.replace(/[^\w-]/g, '').slice(0, 40)}`;
    const created = Math.floor(Date.now() / 1000);
    const model = `weft-${tier}`;
    if (body.stream !== true) {
      try {
        const chunks = await inRequestContext(request, () => collected.run(req, runOptions));
        const content = chunks.map((c) => (c.type === 'delta' ? c.content : '')).join('');
        const usage = chunks.find((c): c is Extract<ChatChunk, { type: 'usage' }> => c.type === 'usage');
        const prompt = usage?.promptTokens ?? 0;
        const completion = usage?.completionTokens ?? Math.ceil(content.length / 4);
        return {
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
        };
      } catch (error) {
        return chatFailure(error, key, reply);
      }
    }
    // Streamed: the response starts with the first chunk, so a refusal or an outage before it is an ordinary HTTP error.
    const iterator = chat.stream(req, runOptions)[Symbol.asyncIterator]();
    let next: IteratorResult<ChatChunk>;
    try {
      next = await inRequestContext(request, () => iterator.next());
    } catch (error) {
      return chatFailure(error, key, reply);
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-correlation-id': request.id });
    const send = (data: unknown): void => void res.write(`data: ${JSON.stringify(data)}\n\n`);
    const base = { id, object: 'chat.completion.chunk', created, model };
    send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    let usage: Extract<ChatChunk, { type: 'usage' }> | undefined;
    try {
      while (!next.done) {
        const c = next.value;
        if (c.type === 'delta') send({ ...base, choices: [{ index: 0, delta: { content: c.content }, finish_reason: null }] });
        else usage = c;
        if (res.destroyed) break;
        next = await iterator.next();
      }
      send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      if (body.stream_options?.include_usage && usage) {
        send({ ...base, choices: [], usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens } });
      }
      res.end('data: [DONE]\n\n');
    } catch (error) {
      // Mid-stream: the status is sent, so the error goes in the stream, as OpenAI's API does it.
      if (!isAbortedError(error)) request.log.warn({ err: error }, 'chat stream failed mid-stream');
      if (!res.destroyed) {
        send({ error: { message: 'The answer was interrupted: the provider failed mid-stream. Retry the request.', type: 'server_error', code: 'stream_interrupted', param: null } });
        res.end();
      }
    } finally {
      void iterator.return?.();
    }
    return reply;
  });

  return app;
}

/** The caller's key, set by the auth hook; a handler can never run without one. */
function keyOf(request: FastifyRequest): ApiKey {
  const key = request.apiKey;
  if (key === undefined) throw Object.assign(new Error('Unauthenticated request reached a handler'), { statusCode: 401 });
  return key;
}

/** Sends an error in OpenAI's shape: `{ error: { message, type, code, param } }`, with the correlation ID. */
function openAiError(reply: FastifyReply, status: number, type: string, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { message, type, code, param: null }, correlationId: reply.request.id });
}

/** Maps a chat completion that failed before its first chunk to its HTTP response, in OpenAI's error shape. */
function chatFailure(error: unknown, key: ApiKey, reply: FastifyReply): FastifyReply {
  if (isRateLimitedError(error)) {
    const seconds = Math.max(1, Math.ceil(error.retryAfter / 1000));
    reply.header('retry-after', String(seconds));
    return openAiError(reply, 429, 'requests', 'rate_limit_exceeded', `Rate limit for API key "${key.name}" exceeded; retry after ${seconds} s.`);
  }
  if (isBudgetExceededError(error)) {
    if (Number.isNaN(error.spent)) return openAiError(reply, 503, 'server_error', 'budget_unavailable', 'The budget store could not be reached, so the request was refused; try again shortly.');
    return openAiError(reply, 402, 'insufficient_quota', 'budget_exhausted', `The daily budget of $${key.dailyBudgetUsd} for API key "${key.name}" is exhausted.`);
  }
  if (isAbortedError(error)) return openAiError(reply, 499, 'invalid_request_error', 'client_closed', 'The client closed the connection.');
  if (isTimeoutError(error)) return openAiError(reply, 504, 'server_error', 'timeout', `No answer within the ${error.timeoutMs} ms deadline.`);
  reply.request.log.warn({ err: error }, 'no provider could answer the chat completion');
  return openAiError(reply, 503, 'server_error', 'providers_unavailable', 'No provider could answer; try again shortly.');
}

/** Maps a failed answer to its HTTP response. */
function replyToFailure(error: unknown, key: ApiKey, reply: FastifyReply): FastifyReply {
  if (isValidationError(error) && error.step === 'validate') {
    return sendError(reply, 400, 'invalid_request', error.message, { issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) });
  }
  if (isRateLimitedError(error)) {
    const seconds = Math.max(1, Math.ceil(error.retryAfter / 1000));
    reply.header('retry-after', String(seconds));
    return sendError(reply, 429, 'rate_limited', `Rate limit for API key "${key.name}" exceeded; retry after ${seconds} s.`, { retryAfterSeconds: seconds });
  }
  if (isBudgetExceededError(error)) {
    if (Number.isNaN(error.spent)) return sendError(reply, 503, 'budget_unavailable', 'The budget store could not be reached, so the request was refused; try again shortly.');
    return sendError(
      reply,
      402,
      'budget_exhausted',
      `The daily budget of $${key.dailyBudgetUsd} for API key "${key.name}" is exhausted ($${error.spent.toFixed(4)} spent in the last 24 hours). Spend ages out of the rolling 24-hour window; retry later or ask for a higher limit.`,
      { budget: { limitUsd: error.limit, spentUsd: error.spent, window: '24h' } },
    );
  }
  if (isAbortedError(error)) {
    // The client went away: nobody reads this.
    return sendError(reply, 499, 'client_closed', 'The client closed the connection.');
  }
  if (isTimeoutError(error)) return sendError(reply, 504, 'timeout', `No answer within the ${error.timeoutMs} ms deadline.`);
  // What each provider said goes to the log, never to the client.
  reply.request.log.warn({ failures: describeFailure(error) }, 'no provider could answer');
  return sendError(reply, 503, 'providers_unavailable', 'No provider could answer; try again shortly.');
}

/** Each provider's last error, for the 503 message: `beta: Provider beta answered 503: ...; gamma: ...`. */
function describeFailure(error: unknown): string {
  const one = (e: unknown): string => {
    const last = isRetryExhaustedError(e) && e.cause !== undefined ? e.cause : e;
    return last instanceof Error ? last.message : String(last);
  };
  if (isFallbackError(error)) return error.errors.map(one).join('; ');
  return one(error);
}

