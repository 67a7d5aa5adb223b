/** The levels a {@link Logger} writes at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Logs an object (fields of the line) with an optional message, or just a message. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * The small logger Weft's integrations write to. Any structured logger fits in a few lines;
 * {@link fromPino} adapts pino, and {@link createLogger} builds one.
 *
 * @example
 * ```ts
 * const log: Logger = createLogger({ level: 'debug' });
 * log.info({ orderId }, 'order accepted');
 * log.child({ component: 'billing' }).warn('slow response');
 * ```
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger whose lines all carry `bindings`. */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written; lets callers skip building it. Optional. */
  isLevelEnabled?(level: LogLevel): boolean;
}
