import { isAbortedError, isBudgetExceededError, isRateLimitedError, isValidationError, onEvent, secretValues, type WeftEvent, type WeftEventType } from '@weft/core';
import { currentClock } from '@weft/core/clock';
import { fail, number, optionsObject } from '@weft/core/options';
import type { LogLevel, Logger } from './logger.js';
import { redactString, redactValue } from './redact.js';

/** The level an event is logged at; `silent` drops it. */
export type EventLevel = LogLevel | 'silent';

/** Options for {@link logEvents}. */
export interface LogEventsOptions {
  /**
   * Level of an intermediate retry failure (`retry.scheduled`, `final: false`). The final failure
   * (`retry.gave_up`, `final: true`) is always an error.
   * @default 'warn'
   */
  readonly retryLevel?: 'warn' | 'debug';
  /** Per-event-type levels that replace the defaults, such as `{ 'run.started': 'silent' }`. @default {} */
  readonly levels?: Readonly<Partial<Record<WeftEventType, EventLevel>>>;
  /** Logs only the events it returns true for. @default every event */
  readonly filter?: (event: WeftEvent) => boolean;
  /**
   * The most lines per second for one event type at one level; beyond it lines are dropped and
   * counted, and the next line logged for that type and level carries `suppressed: <count>`. Keeps
   * an outage (every request failing the same way) from flooding the logs. 0 turns it off.
   * @default 20
   */
  readonly maxPerSecond?: number;
}

const DEFAULTS = { retryLevel: 'warn', levels: {}, filter: () => true, maxPerSecond: 20 } as const satisfies Required<LogEventsOptions>;
const EVENT_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/**
 * Logs Weft's events at their severity, with the event's fields and its correlation ID:
 * - `error`: a failed run, a retry that gave up (its final failure), an exhausted fallback, a failed
 *   compensation;
 * - `warn`: an intermediate retry failure (or `debug`, see `retryLevel`), timeouts, fallbacks served,
 *   circuit state changes and rejections, shed or rate-limited calls, budget warnings, store errors,
 *   a replaced correlation ID;
 * - `info`: retries that succeeded, chaos injections, saga compensations;
 * - `debug`: starts, successes, attempts, cache lookups and the rest.
 * Lines carry `correlation_id`, `run_id`, `workflow`, `step`, `event` and, for finished runs and
 * steps, `trace_id`. The current run's secrets are redacted from every field. Returns a function that
 * unsubscribes. Logging never throws into a run. Note that while anyone subscribes, every primitive
 * builds its events.
 *
 * @example
 * ```ts
 * const stop = logEvents(createLogger(), { levels: { 'run.started': 'silent' } });
 * // ... on shutdown
 * stop();
 * ```
 */
export function logEvents(logger: Logger, options?: LogEventsOptions): () => void {
  if (typeof logger !== 'object' || logger === null || typeof logger.error !== 'function' || typeof logger.warn !== 'function' || typeof logger.info !== 'function' || typeof logger.debug !== 'function') {
    fail('logger', 'a Logger (debug, info, warn and error methods)', logger);
  }
  const o = optionsObject('options', options, ['retryLevel', 'levels', 'filter', 'maxPerSecond'], 'logEvents');
  const maxPerSecond = number('maxPerSecond', o.maxPerSecond, DEFAULTS.maxPerSecond, { min: 0, integer: true });
  // Per event type and level: lines logged in the current second, and lines dropped since the last one logged.
  const budget = new Map<string, { second: number; logged: number; suppressed: number }>();
  const retryLevel = o.retryLevel ?? DEFAULTS.retryLevel;
  if (retryLevel !== 'warn' && retryLevel !== 'debug') fail('retryLevel', '"warn" or "debug"', retryLevel);
  const levels = optionsObject('levels', o.levels) as Partial<Record<string, EventLevel>>;
  for (const [type, level] of Object.entries(levels)) {
    if (!(EVENT_LEVELS as readonly unknown[]).includes(level)) fail(`levels.${type}`, `one of ${EVENT_LEVELS.map((l) => `"${l}"`).join(', ')}`, level);
  }
  if (o.filter !== undefined && typeof o.filter !== 'function') fail('filter', 'a function', o.filter);
  const filter = (o.filter as LogEventsOptions['filter']) ?? DEFAULTS.filter;

  return onEvent((event) => {
    try {
      if (!filter(event)) return;
      const level = levels[event.type] ?? defaultLevel(event, retryLevel);
      if (level === 'silent' || logger.isLevelEnabled?.(level) === false) return;
      // Redact here as well, so any Logger implementation is safe. The secrets are those of the run
      // whose context is current while the event is delivered.
      const secrets = secretValues();
      let suppressed = 0;
      if (maxPerSecond > 0) {
        const key = `${event.type}\u0000${level}`;
        const second = Math.floor(currentClock().now() / 1_000);
        let b = budget.get(key);
        if (b === undefined) budget.set(key, (b = { second, logged: 0, suppressed: 0 }));
        if (b.second !== second) {
          b.second = second;
          b.logged = 0;
        }
        if (b.logged >= maxPerSecond) {
          b.suppressed++;
          return;
        }
        b.logged++;
        suppressed = b.suppressed;
        b.suppressed = 0;
      }
      const fields = eventFields(event);
      if (suppressed > 0) fields.suppressed = suppressed;
      // Below warn an error is an expected refusal: its name and message say it all, no stack
      // (under `refusal`, since a logger's `err` serializer would add one).
      if ((level === 'info' || level === 'debug') && fields.err instanceof Error) {
        fields.refusal = summariseError(fields.err);
        delete fields.err;
      }
      const msg = describe(event);
      if (secrets.length === 0) logger[level](fields, msg);
      else logger[level](redactValue(fields, secrets), redactString(msg, secrets));
    } catch {
      // telemetry never breaks a workflow
    }
  });
}

function isCallerRefusal(error: unknown): boolean {
  return isValidationError(error) || isBudgetExceededError(error) || isRateLimitedError(error) || isAbortedError(error);
}

/** The default level of an event. */
function defaultLevel(e: WeftEvent, retryLevel: 'warn' | 'debug'): LogLevel {
  switch (e.type) {
    case 'run.finished':
      if (e.outcome !== 'error') return 'debug';
      // The caller's own refusals (a bad request, a spent budget, a rate limit, a caller that went
      // away) are the service working as designed: info. Only the service's failures are errors.
      return isCallerRefusal(e.error) ? 'info' : 'error';
    case 'retry.scheduled':
    case 'retry.gave_up':
      // `final` is false on every intermediate failure and true on the one final failure.
      return e.final ? 'error' : retryLevel;
    case 'retry.succeeded':
    case 'chaos.injected':
      return 'info';
    case 'context.correlation_id_replaced':
    case 'timeout.expired':
    case 'fallback.served':
    case 'circuit.state_changed':
    case 'circuit.rejected':
    case 'bulkhead.rejected':
    case 'ratelimit.store_error':
    case 'budget.warning':
    case 'budget.store_error':
      return 'warn';
    case 'ratelimit.rejected':
    case 'budget.exceeded':
      return 'info';
    case 'fallback.exhausted':
      return 'error';
    case 'cache.request':
      return e.result === 'store_error' ? 'warn' : 'debug';
    case 'cache.set':
    case 'cache.refresh':
      return e.ok ? 'debug' : 'warn';
    case 'saga.finished':
      return e.outcome === 'compensation_failed' ? 'error' : e.outcome === 'compensated' ? 'warn' : 'debug';
    case 'saga.compensation':
      return e.outcome === 'error' ? 'error' : 'info';
    default:
      // Starts, successes, attempts, queueing, routing, costs, usage and any event added later.
      return 'debug';
  }
}

const BASE_FIELDS = new Set(['type', 'workflow', 'step', 'primitive', 'correlationId', 'runId', 'time', 'error', 'errors', 'result']);

/** The line's fields: the event's own, with `err` for its error and error summaries for error lists. */
function eventFields(e: WeftEvent): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    event: e.type,
    workflow: e.workflow,
    step: e.step,
    primitive: e.primitive,
    correlation_id: e.correlationId,
    run_id: e.runId,
  };
  for (const key of Object.keys(e)) {
    if (!BASE_FIELDS.has(key)) fields[key] = (e as unknown as Record<string, unknown>)[key];
  }
  const traceId = (e as { traceId?: unknown }).traceId;
  if (typeof traceId === 'string') {
    delete fields.traceId;
    fields.trace_id = traceId;
  }
  const error = (e as { error?: unknown }).error;
  if (error !== undefined) fields.err = loggableError(error);
  const errors = (e as { errors?: unknown }).errors;
  if (Array.isArray(errors)) fields.errors = errors.map(summariseError);
  // `result` values are application data: never logged.
  return fields;
}

function summariseError(error: unknown): { type: string; message: string } {
  return error instanceof Error ? { type: error.name, message: messageOf(error) } : { type: typeof error, message: String(error) };
}

/**
 * A validation failure is the caller's input described back: zod's messages quote unknown keys and
 * received values. Log its shape (step, target, issue paths' length and codes), never its text.
 */
function loggableError(error: unknown): unknown {
  if (!isValidationError(error)) return error;
  return { type: error.name, code: error.code, step: error.step, target: error.target, issues: error.issues.length, issue_codes: [...new Set(error.issues.map((i) => i.code ?? 'unknown'))] };
}

/** A short human message for the line. */
function describe(e: WeftEvent): string {
  switch (e.type) {
    case 'run.started':
      return `run ${e.workflow} started`;
    case 'run.finished':
      return e.outcome === 'error' ? `run ${e.workflow} failed: ${messageOf(e.error)}` : `run ${e.workflow} succeeded`;
    case 'step.finished':
      return e.outcome === 'error' ? `step ${e.step} failed: ${messageOf(e.error)}` : `step ${e.step} succeeded`;
    case 'retry.scheduled':
      return `${e.step} attempt ${e.attempt} failed; retrying in ${Math.round(e.delayMs)} ms`;
    case 'retry.gave_up':
      return `${e.step} gave up after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'} (${e.reason})`;
    case 'retry.succeeded':
      return `${e.step} succeeded after ${e.attempts} attempts`;
    case 'timeout.expired':
      return `${e.step} timed out after ${e.timeoutMs} ms`;
    case 'circuit.state_changed':
      return `circuit ${e.breaker} ${e.from} -> ${e.to}`;
    case 'circuit.rejected':
      return `circuit ${e.breaker} is ${e.state}: call rejected`;
    case 'fallback.served':
      return `${e.step} served by fallback ${e.served}`;
    case 'fallback.exhausted':
      return `${e.step}: every fallback failed`;
    case 'context.correlation_id_replaced':
      return `malformed correlation ID replaced (${e.reason})`;
    default:
      return e.type;
  }
}

function messageOf(error: unknown): string {
  if (isValidationError(error)) return `invalid ${error.target} for step "${error.step}" (${error.issues.length} issue${error.issues.length === 1 ? '' : 's'})`;
  return error instanceof Error ? error.message : String(error);
}
