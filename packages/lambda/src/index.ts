export { lambdaHandler } from './handler.js';
export type { LambdaHandlerOptions, WeftLambdaHandler } from './handler.js';
export { LambdaState } from './state.js';
export type { BreakerStateStore, LambdaStateOptions, StateMode } from './state.js';
export { errorResponse } from './responses.js';
export type { ErrorResponse } from './responses.js';
export { eventKind } from './events.js';
export type { EventKind, HttpResult } from './events.js';
