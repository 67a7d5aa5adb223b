import { context as otelContext } from '@opentelemetry/api';
import { onEvent, Primitive } from '@weft/core';
import { CORRELATION_ID_HEADER, extract } from '@weft/http';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { eventKind, httpRequest, type HttpResult } from './events.js';
import { InvocationMetrics } from './metrics-line.js';
import { errorResponse } from './responses.js';
import type { LambdaState } from './state.js';

/**
 * Options for {@link lambdaHandler}.
 *
 * @example
 * ```ts
 * const options: LambdaHandlerOptions<{ question: string }> = { safetyMarginMs: 300, metrics: { namespace: 'Answers' } };
 * ```
 */
export interface LambdaHandlerOptions<I> {
  /** The workflow's name in spans, events and metrics. @default the primitive's name */
  readonly name?: string;
  /**
   * Kept back from the invocation's remaining time: the run's deadline is
   * `context.getRemainingTimeInMillis() - safetyMarginMs`, so a retry never outlives the function
   * and there is time left to answer, save state and flush.
   * @default 500
   */
  readonly safetyMarginMs?: number;
  /** State loaded before and saved after each invocation (breakers), see `LambdaState`. */
  readonly state?: LambdaState;
  /** Builds the workflow's input from a plain (non-HTTP) event. @default the event itself */
  readonly input?: (event: unknown) => I;
  /** Awaited before the handler returns, e.g. `() => tracerProvider.forceFlush()`, so no span waits in a frozen process. */
  readonly flush?: () => Promise<void>;
  /**
   * The invocation's metrics, as one CloudWatch Embedded Metric Format line; `false` for none.
   * @default { namespace: 'Weft', write: console.log }
   */
  readonly metrics?: false | { readonly namespace?: string; readonly write?: (line: string) => void };
}

/** A Lambda handler: API Gateway v2 and v1 events get an HTTP result, a plain event the workflow's output. */
export type WeftLambdaHandler<O> = (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>) => Promise<HttpResult | O>;

function json(status: number, body: unknown, headers: Record<string, string>): HttpResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/**
 * Turns a Weft primitive into an AWS Lambda handler. For an API Gateway HTTP API (payload v2) or
 * REST (v1) proxy event: the JSON body is the input (malformed JSON gets 400; the step's own zod
 * schema checks the rest, and a bad input gets 400 with the zod-derived issues), the correlation ID
 * comes from `x-correlation-id` or is generated and is echoed, W3C `traceparent` makes the run a
 * child of the caller's trace, the run's deadline is the invocation's remaining time minus
 * `safetyMarginMs`, and typed Weft errors get the statuses the gateway gives them, with generic
 * messages. A plain event is the input (or `options.input(event)`), and the output is returned.
 *
 * Freeze-safe: the run's timers end with it, the event subscription counting the metrics is
 * removed before returning, breaker state is saved and spans flushed (`flush`) before the handler
 * returns.
 *
 * @example
 * ```ts
 * import { step } from '@weft/core';
 * import { lambdaHandler } from '@weft/lambda';
 * import { z } from 'zod';
 *
 * const answer = step({ name: 'answer', input: z.object({ question: z.string().min(1) }) }, async ({ question }) => ({ answer: question.length }));
 * export const handler = lambdaHandler(answer.retry({ retries: 2 }));
 * ```
 */
export function lambdaHandler<I, O>(workflow: Primitive<I, O>, options: LambdaHandlerOptions<I> = {}): WeftLambdaHandler<O> {
  if (!(workflow instanceof Primitive)) throw new TypeError(`Expected \`workflow\` to be a Weft primitive, got ${typeof workflow}`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${String(options)}`);
  const name = options.name ?? workflow.name;
  if (typeof name !== 'string' || name === '') throw new TypeError(`Expected \`name\` to be a non-empty string, got ${String(name)}`);
  const margin = options.safetyMarginMs ?? 500;
  if (!Number.isFinite(margin) || margin < 0) throw new TypeError(`Expected \`safetyMarginMs\` to be a non-negative number, got ${String(margin)}`);
  if (options.input !== undefined && typeof options.input !== 'function') throw new TypeError('Expected `input` to be a function of the event');
  if (options.flush !== undefined && typeof options.flush !== 'function') throw new TypeError('Expected `flush` to be a function returning a promise');
  const metricsOption = options.metrics ?? {};
  const namespace = metricsOption === false ? '' : (metricsOption.namespace ?? 'Weft');
  const write = metricsOption === false ? undefined : (metricsOption.write ?? ((line: string) => console.log(line)));
  let invocations = 0;

  return async (event, lambdaContext) => {
    const coldStart = invocations++ === 0;
    const kind = eventKind(event);
    const request = kind === 'plain' ? undefined : httpRequest(event as APIGatewayProxyEventV2 | APIGatewayProxyEvent, kind);
    const incoming = extract(request?.headers ?? {}, { baggage: true });
    const echo = { [CORRELATION_ID_HEADER]: incoming.correlationId };
    const counted = new InvocationMetrics(name);
    const unsubscribe = write === undefined ? undefined : onEvent((e) => counted.record(e));
    let status: number | undefined;
    try {
      let input: unknown;
      if (request !== undefined) {
        try {
          input = request.body === undefined || request.body.trim() === '' ? undefined : (JSON.parse(request.body) as unknown);
        } catch {
          status = 400;
          return json(400, { error: 'invalid_json', message: 'The request body is not valid JSON.', correlationId: incoming.correlationId }, echo);
        }
      } else {
        input = options.input === undefined ? event : options.input(event);
      }
      const remaining = Math.floor(lambdaContext.getRemainingTimeInMillis() - margin);
      if (remaining <= 0) {
        status = 504;
        if (request === undefined) throw new Error('No time left in the invocation to run the workflow');
        return json(504, { error: 'timeout', message: 'No answer within the deadline.', correlationId: incoming.correlationId }, echo);
      }
      await options.state?.load();
      try {
        const output = await otelContext.with(incoming.context, () => workflow.run(input as I, { correlationId: incoming.correlationId, timeout: remaining, workflow: name }));
        status = 200;
        return request === undefined ? output : json(200, output, echo);
      } catch (error) {
        if (request === undefined) throw error;
        const r = errorResponse(error);
        status = r.status;
        return json(r.status, { error: r.error, message: r.message, correlationId: incoming.correlationId, ...r.details }, { ...r.headers, ...echo });
      } finally {
        await options.state?.save();
      }
    } finally {
      unsubscribe?.();
      if (write !== undefined) {
        try {
          write(counted.line(namespace, coldStart, status));
        } catch {
          // telemetry never breaks an invocation
        }
      }
      await options.flush?.().catch(() => undefined);
    }
  };
}
