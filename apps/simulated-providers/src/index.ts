export { startSimulatedProviders } from './start-simulated-providers.js';
export type { SimulatedProviders, SimulatedProvidersOptions } from './start-simulated-providers.js';
export { BEHAVIOUR_DEFAULTS, MAX_LATENCY_MS } from './provider-config.js';
export type { ProviderBehaviour, ProviderOptions, ProviderStats, SimulatedErrorStatus } from './provider-config.js';
export { optionsFromEnv } from './options-from-env.js';
export { answerFor, countTokens } from './answer.js';
export { chatCompletionRequestSchema, completeChat } from './chat-completion.js';
export type { ChatCompletionRequest, ChatCompletionResponse, OpenAiErrorBody } from './chat-completion.js';
