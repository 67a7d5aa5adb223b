export type { Logger, LogFn, LogLevel } from './logger.js';
export { createLogger, fromPino, weftPinoOptions } from './pino.js';
export type { CreateLoggerOptions } from './pino.js';
export { weftLogFields } from './fields.js';
export type { WeftLogFields } from './fields.js';
export { redactValue, redactString, REDACTED } from './redact.js';
export { logEvents } from './log-events.js';
export type { LogEventsOptions, EventLevel } from './log-events.js';
