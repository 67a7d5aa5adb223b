import { pino, type DestinationStream, type Level, type LoggerOptions, type Logger as PinoLogger } from 'pino';
import { secretValues } from '@weft/core';
import { fail, optionsObject } from '@weft/core/options';
import { weftLogFields } from './fields.js';
import type { LogLevel, Logger } from './logger.js';
import { orderSecrets, redactString, redactValue, REDACTED } from './redact.js';

/** Marks a pino `logMethod` hook installed by {@link weftPinoOptions}; a global symbol so copies agree. */
const INSTRUMENTED = Symbol.for('weft.log.instrumented');

/**
 * Secrets shorter than this are not searched for in the final serialised line, where a short string
 * could match JSON syntax or a number; they are still redacted from every logged value.
 */
const MIN_LINE_SECRET_LENGTH = 6;

/**
 * Pino options that make every line Weft-aware: a `mixin` adding `correlation_id`, `run_id`,
 * `trace_id` and `span_id`; a `hooks.logMethod` that redacts the current run's secrets from every
 * argument (message, objects, errors); and a `hooks.streamWrite` safety net that redacts them from the
 * serialised line too (bindings of raw pino children included). Your own `mixin` and hooks still run.
 *
 * @example
 * ```ts
 * const logger = pino(weftPinoOptions({ level: 'debug' }), pino.destination(2));
 * ```
 */
export function weftPinoOptions(options?: LoggerOptions): LoggerOptions {
  const o = (optionsObject('options', options) as LoggerOptions) ?? {};
  const userMixin = o.mixin;
  const userLogMethod = o.hooks?.logMethod;
  const userStreamWrite = o.hooks?.streamWrite;

  const logMethod = function (this: PinoLogger, args: unknown[], method: (...a: unknown[]) => void, level: number): void {
    const secrets = safeSecrets();
    const redacted = secrets.length === 0 ? args : args.map((a) => redactValue(a, secrets));
    if (userLogMethod) (userLogMethod as (this: PinoLogger, a: unknown[], m: unknown, l: number) => void).call(this, redacted, method, level);
    else method.apply(this, redacted);
  };
  (logMethod as unknown as Record<symbol, boolean>)[INSTRUMENTED] = true;

  const streamWrite = (line: string): string => {
    const s = userStreamWrite ? userStreamWrite(line) : line;
    const secrets = safeSecrets();
    if (secrets.length === 0) return s;
    let out = s;
    for (const secret of secrets) {
      if (secret.length < MIN_LINE_SECRET_LENGTH) continue;
      // The line is JSON: look for the secret as it is escaped there.
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  };

  return {
    ...o,
    mixin(mergeObject, level, logger) {
      const fields = weftLogFields();
      return userMixin ? { ...userMixin(mergeObject, level, logger), ...fields } : fields;
    },
    hooks: { ...o.hooks, logMethod: logMethod, streamWrite },
  };
}

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** The lowest level written. @default 'info' */
  readonly level?: LogLevel | 'trace' | 'fatal' | 'silent';
  /** The `name` field of every line. */
  readonly name?: string;
  /** Where lines go. @default standard output */
  readonly destination?: DestinationStream;
  /** More pino options; Weft's `mixin` and hooks are added to them. */
  readonly pino?: LoggerOptions;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const DEFAULTS = { level: 'info' } as const satisfies Pick<Required<CreateLoggerOptions>, 'level'>;

/**
 * Builds a pino-backed {@link Logger} whose lines carry the run's correlation and trace IDs and never
 * the run's secrets. See {@link weftPinoOptions}.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'debug', name: 'checkout' });
 * await flow.run(input, { secrets: { apiKey } }); // lines logged inside carry correlation_id, trace_id, span_id
 * ```
 */
export function createLogger(options?: CreateLoggerOptions): Logger {
  const o = optionsObject('options', options, ['level', 'name', 'destination', 'pino'], 'createLogger') as CreateLoggerOptions;
  const level = o.level ?? DEFAULTS.level;
  if (!(LEVELS as readonly string[]).includes(level)) fail('level', `one of ${LEVELS.map((l) => `"${l}"`).join(', ')}`, level);
  if (o.name !== undefined && typeof o.name !== 'string') fail('name', 'a string', o.name);
  if (o.destination !== undefined && (typeof o.destination !== 'object' || o.destination === null || typeof (o.destination as { write?: unknown }).write !== 'function')) {
    fail('destination', 'a stream with a write() method', o.destination);
  }
  const pinoOptions = weftPinoOptions({ ...optionsObject('pino', o.pino), level, ...(o.name === undefined ? {} : { name: o.name }) });
  const logger = o.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, o.destination);
  return fromPino(logger);
}

/**
 * Adapts a pino logger to {@link Logger}. A logger built with {@link weftPinoOptions} (or by
 * {@link createLogger}) is used as is; any other pino logger gets the Weft fields and secret redaction
 * added per call by the adapter (bindings given to `child()` are redacted too). Logging never throws.
 *
 * @example
 * ```ts
 * const log = fromPino(app.log); // e.g. Fastify's logger
 * logEvents(log);
 * ```
 */
export function fromPino(logger: PinoLogger): Logger {
  if (typeof logger !== 'object' || logger === null || typeof (logger as { child?: unknown }).child !== 'function' || typeof logger.info !== 'function') {
    fail('logger', 'a pino logger', logger);
  }
  const hooks = (logger as unknown as Record<symbol, { logMethod?: unknown } | undefined>)[Symbol.for('pino.hooks')];
  const instrumented = typeof hooks?.logMethod === 'function' && (hooks.logMethod as unknown as Record<symbol, unknown>)[INSTRUMENTED] === true;
  return new PinoAdapter(logger, instrumented);
}

class PinoAdapter implements Logger {
  constructor(
    private readonly pino: PinoLogger,
    private readonly instrumented: boolean,
  ) {}

  debug(objOrMsg: object | string, msg?: string): void {
    this.write('debug', objOrMsg, msg);
  }
  info(objOrMsg: object | string, msg?: string): void {
    this.write('info', objOrMsg, msg);
  }
  warn(objOrMsg: object | string, msg?: string): void {
    this.write('warn', objOrMsg, msg);
  }
  error(objOrMsg: object | string, msg?: string): void {
    this.write('error', objOrMsg, msg);
  }

  isLevelEnabled(level: LogLevel): boolean {
    try {
      return this.pino.isLevelEnabled(level);
    } catch {
      return true;
    }
  }

  child(bindings: Record<string, unknown>): Logger {
    const secrets = safeSecrets();
    return new PinoAdapter(this.pino.child(secrets.length === 0 ? bindings : redactValue(bindings, secrets)), this.instrumented);
  }

  private write(level: Level, objOrMsg: object | string, msg: string | undefined): void {
    try {
      const p = this.pino;
      if (!p.isLevelEnabled(level)) return;
      if (this.instrumented) {
        if (msg === undefined) p[level](objOrMsg as object);
        else p[level](objOrMsg as object, msg);
        return;
      }
      // A plain pino logger: add the fields and redact here.
      const secrets = safeSecrets();
      const fields = weftLogFields();
      if (typeof objOrMsg === 'string') {
        p[level](fields, secrets.length === 0 ? objOrMsg : redactString(objOrMsg, secrets));
        return;
      }
      const obj = secrets.length === 0 ? objOrMsg : redactValue(objOrMsg, secrets);
      const merged = obj instanceof Error ? { ...fields, err: obj } : { ...fields, ...obj };
      const message = msg ?? (obj instanceof Error ? obj.message : undefined);
      const safeMessage = message === undefined || secrets.length === 0 ? message : redactString(message, secrets);
      if (safeMessage === undefined) p[level](merged);
      else p[level](merged, safeMessage);
    } catch {
      // telemetry never breaks a workflow
    }
  }
}

function safeSecrets(): readonly string[] {
  try {
    return orderSecrets(secretValues());
  } catch {
    return [];
  }
}
