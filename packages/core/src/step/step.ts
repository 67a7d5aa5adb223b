import { context as otelContext, type Span } from '@opentelemetry/api';
import type { z } from 'zod';
import type { RunContext } from '../context/run-context.js';
import { ValidationError, type ValidationIssue } from '../errors/validation-error.js';
import { toError } from '../errors/non-error-thrown.js';
import { abortReasonError, storage, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { isThenable } from '../internal/is-thenable.js';
import { childSpan, endSpan, failSpan } from '../internal/tracing.js';
import { fail, primitiveName } from '../internal/validate-options.js';
import { Primitive } from '../primitive.js';

/** The function a step runs. It gets the run's context, whose `signal` it should honour. */
export type StepFn<I, O> = (input: I, ctx: RunContext) => O | Promise<O>;

/** A step with zod schemas for its input and/or output. */
export interface StepDefinition<IS extends z.ZodType | undefined = undefined, OS extends z.ZodType | undefined = undefined> {
  /** The step's name: a short identifier written in code, used on spans and metric labels. */
  readonly name: string;
  /** Validates (and may transform) the input before `fn` runs; failure throws `ValidationError`. */
  readonly input?: IS;
  /** Validates the output after `fn` returns; failure throws `ValidationError`. */
  readonly output?: OS;
}

type In<IS, Fallback> = IS extends z.ZodType ? z.input<IS> : Fallback;
type Parsed<IS, Fallback> = IS extends z.ZodType ? z.output<IS> : Fallback;
type Out<OS, Fallback> = OS extends z.ZodType ? z.output<OS> : Fallback;

/**
 * Turns a function into a primitive.
 *
 * @example
 * ```ts
 * const double = step('double', (n: number) => n * 2);
 * const greet = step({ name: 'greet', input: z.object({ name: z.string() }) }, ({ name }) => `hi ${name}`);
 * await greet.run({ name: 'Ada' }); // 'hi Ada'
 * ```
 */
export function step<I, O>(name: string, fn: StepFn<I, O>): Primitive<I, O>;
export function step<IS extends z.ZodType | undefined = undefined, OS extends z.ZodType | undefined = undefined, I = unknown, O = unknown>(
  definition: StepDefinition<IS, OS>,
  fn: StepFn<Parsed<IS, I>, Out<OS, O>>,
): Primitive<In<IS, I>, Out<OS, O>>;
export function step(nameOrDefinition: string | StepDefinition<z.ZodType | undefined, z.ZodType | undefined>, fn: StepFn<unknown, unknown>): Primitive<unknown, unknown> {
  const def = typeof nameOrDefinition === 'string' ? { name: nameOrDefinition } : nameOrDefinition;
  if (typeof def !== 'object' || def === null) fail('step', 'a name or a step definition', nameOrDefinition);
  const name = primitiveName('name', def.name);
  if (typeof fn !== 'function') fail('fn', 'a function', fn);
  const inputSchema = checkSchema('input', def.input);
  const outputSchema = checkSchema('output', def.output);

  const exec = (input: unknown, parent: Ctx): Promise<unknown> => {
    if (parent.scope.aborted) return Promise.reject(abortReasonError(parent.scope.reason));
    let ctx = parent.step === name ? parent : parent.with({ step: name });
    let span: Span | undefined;
    if (ctx.span !== undefined) {
      const traced = childSpan(ctx, name, {
        'weft.step': name,
        'weft.workflow': ctx.run.workflow,
        'weft.correlation_id': ctx.run.correlationId,
        'weft.attempt': ctx.attempt,
      });
      ctx = traced.ctx;
      span = traced.span;
    }
    const watching = listening();
    const t0 = watching ? performance.now() : 0;
    if (watching) emit(ctx, 'step', { type: 'step.started', attempt: ctx.attempt });

    const onSuccess = (value: unknown): unknown => {
      const result = outputSchema ? parse(outputSchema, value, name, 'output') : value;
      if (span) endSpan(span);
      if (watching) emit(ctx, 'step', { type: 'step.finished', outcome: 'success', durationMs: performance.now() - t0, attempt: ctx.attempt, traceId: span?.spanContext().traceId });
      return result;
    };
    const onError = (thrown: unknown): never => {
      const error = toError(thrown);
      if (span) {
        failSpan(span, error);
        endSpan(span);
      }
      if (watching) emit(ctx, 'step', { type: 'step.finished', outcome: 'error', durationMs: performance.now() - t0, attempt: ctx.attempt, error, traceId: span?.spanContext().traceId });
      throw error;
    };

    let out: unknown;
    try {
      const value = inputSchema ? parse(inputSchema, input, name, 'input') : input;
      const c = ctx;
      out = span ? otelContext.with(c.otel, () => storage.run(c, fn, value, c)) : storage.run(c, fn, value, c);
    } catch (error) {
      try {
        onError(error);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    // onSuccess may throw (output validation): route that through onError too.
    if (isThenable(out)) return Promise.resolve(out).then(onSuccess).then(undefined, onError);
    try {
      return Promise.resolve(onSuccess(out));
    } catch (error) {
      try {
        return onError(error);
      } catch (e) {
        return Promise.reject(e);
      }
    }
  };
  return new Primitive(name, 'step', exec);
}

function checkSchema(option: string, schema: unknown): z.ZodType | undefined {
  if (schema === undefined) return undefined;
  if (typeof schema !== 'object' || schema === null || typeof (schema as { safeParse?: unknown }).safeParse !== 'function') {
    fail(option, 'a zod schema', schema);
  }
  return schema as z.ZodType;
}

function parse(schema: z.ZodType, value: unknown, name: string, target: 'input' | 'output'): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code }));
  throw new ValidationError(name, target, issues, result.error);
}
