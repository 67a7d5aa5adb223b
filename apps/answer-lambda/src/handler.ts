/**
 * The Lambda entry point (`Handler: dist/handler.handler` in template.yaml). Everything here runs
 * once per container, in the init phase: the providers from `ANSWER_PROVIDERS`, the state (Redis
 * when `REDIS_URL` is set) and the workflow. Each invocation then runs the workflow with the
 * invocation's deadline, and writes one metrics line.
 */
import { lambdaHandler, LambdaState } from '@weft/lambda';
import { buildAnswer, providersFromEnv } from './workflow.js';

const state = await LambdaState.create();
const answer = buildAnswer(providersFromEnv(process.env), state, { timeoutMs: Number(process.env.PROVIDER_TIMEOUT_MS ?? 10_000) });

/** The handler API Gateway (HTTP API or REST) invokes. */
export const handler = lambdaHandler(answer, { name: 'answer', state, metrics: { namespace: 'WeftAnswer' } });
