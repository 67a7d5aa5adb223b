import { durationNow } from '../clock/clock.js';
import type { Span } from '@opentelemetry/api';
import { otelApi } from '../internal/otel.js';
import type { StandardSchemaV1 } from '@standard-schema/spec';
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

/**
 * A schema Weft accepts: any [Standard Schema](https://standardschema.dev) — zod 4, zod 3.25+,
 * valibot, arktype. zod is the documented choice.
 */
export type Schema<I = unknown, O = I> = StandardSchemaV1<I, O>;

/** A step with schemas (any Standard Schema, such as zod) for its input and/or output. */
export interface StepDefinition<IS extends Schema | undefined = undefined, OS extends Schema | undefined = undefined> {
  /** The step's name: a short identifier written in code, used on spans and metric labels. */
  readonly name: string;
  /** Validates (and may transform) the input before `fn` runs; failure throws `ValidationError`. */
  readonly input?: IS;
  /** Validates the output after `fn` returns; failure throws `ValidationError`. */
  readonly output?: OS;
}

type In<IS, Fallback> = IS extends Schema ? StandardSchemaV1.InferInput<IS> : Fallback;
type Parsed<IS, Fallback> = IS extends Schema ? StandardSchemaV1.InferOutput<IS> : Fallback;
type Out<OS, Fallback> = OS extends Schema ? StandardSchemaV1.InferOutput<OS> : Fallback;

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
export function step<IS extends Schema | undefined = undefined, OS extends Schema | undefined = undefined, I = unknown, O = unknown>(
  definition: StepDefinition<IS, OS>,
  fn: StepFn<Parsed<IS, I>, Out<OS, O>>,
): Primitive<In<IS, I>, Out<OS, O>>;
export function step(nameOrDefinition: string | StepDefinition<Schema | undefined, Schema | undefined>, fn: StepFn<unknown, unknown>): Primitive<unknown, unknown> {
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
    const t0 = watching ? durationNow() : 0;
    if (watching) emit(ctx, 'step', { type: 'step.started', attempt: ctx.attempt });

    const finishSuccess = (result: unknown): unknown => {
      if (span) endSpan(span);
      if (watching) emit(ctx, 'step', { type: 'step.finished', outcome: 'success', durationMs: durationNow() - t0, attempt: ctx.attempt, traceId: span?.spanContext().traceId });
      return result;
    };
    const onSuccess = (value: unknown): unknown => {
      if (!outputSchema) return finishSuccess(value);
      const result = parse(outputSchema, value, name, 'output');
      return isThenable(result) ? Promise.resolve(result).then(finishSuccess) : finishSuccess(result);
    };
    const onError = (thrown: unknown): never => {
      const error = toError(thrown);
      if (span) {
        failSpan(span, error);
        endSpan(span);
      }
      if (watching) emit(ctx, 'step', { type: 'step.finished', outcome: 'error', durationMs: durationNow() - t0, attempt: ctx.attempt, error, traceId: span?.spanContext().traceId });
      throw error;
    };

    let out: unknown;
    try {
      const c = ctx;
      const call = (value: unknown): unknown => (span ? otelApi()!.context.with(c.otel!, () => storage.run(c, fn, value, c)) : storage.run(c, fn, value, c));
      const value = inputSchema ? parse(inputSchema, input, name, 'input') : input;
      // A schema that validates asynchronously returns a promise: call the function once it settles.
      out = isThenable(value) ? Promise.resolve(value).then(call) : call(value);
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
      const result = onSuccess(out);
      return isThenable(result) ? Promise.resolve(result).then(undefined, onError) : Promise.resolve(result);
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

function checkSchema(option: string, schema: unknown): Schema | undefined {
  if (schema === undefined) return undefined;
  const standard = (typeof schema === 'object' || typeof schema === 'function') && schema !== null ? (schema as Partial<Schema>)['~standard'] : undefined;
  if (typeof standard !== 'object' || standard === null || typeof standard.validate !== 'function') {
    fail(option, 'a Standard Schema (zod 4, zod 3.25+, valibot, arktype)', schema);
  }
  return schema as Schema;
}

/** Validates with the schema; returns the (possibly transformed) value, or a promise of it for an async schema. */
function parse(schema: Schema, value: unknown, name: string, target: 'input' | 'output'): unknown {
  const result = schema['~standard'].validate(value);
  if (isThenable<StandardSchemaV1.Result<unknown>>(result)) return Promise.resolve(result).then((r) => settle(r, name, target));
  return settle(result, name, target);
}

function settle(result: StandardSchemaV1.Result<unknown>, name: string, target: 'input' | 'output'): unknown {
  if (result.issues === undefined) return result.value;
  const issues: ValidationIssue[] = result.issues.map((i) => ({
    path: (i.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)),
    message: i.message,
    code: codeOf(i),
  }));
  throw new ValidationError(name, target, issues);
}

/** zod's issues carry a `code`; other Standard Schema libraries' may not. */
function codeOf(issue: StandardSchemaV1.Issue): string | undefined {
  const code = (issue as { readonly code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
