export { streamStep, pipeStream, routeStream, StreamPrimitive, WeftStream } from './stream.js';
export type { StreamSource, StreamFn, StreamOutcome, StreamStepOptions, StreamTimeoutOptions, StreamRetryOptions, StreamHedgeOptions } from './stream.js';
export { StreamInterruptedError, isStreamInterruptedError } from '../errors/stream-interrupted-error.js';
