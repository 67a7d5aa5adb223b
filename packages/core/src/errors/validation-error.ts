import { WeftError, brandOf } from './weft-error.js';

/** One problem found by a schema, in zod's shape. */
export interface ValidationIssue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
  readonly code?: string;
}

/**
 * Input or output failed its schema. Never retried.
 *
 * @example
 * ```ts
 * catch (e) { if (isValidationError(e)) console.log(e.issues) }
 * ```
 */
export class ValidationError extends WeftError {
  override name = 'ValidationError';
  /** Whether the input or the output failed. */
  readonly target: 'input' | 'output';
  /** The step whose schema failed. */
  readonly step: string;
  /** zod's issues. */
  readonly issues: ReadonlyArray<ValidationIssue>;

  constructor(step: string, target: 'input' | 'output', issues: ReadonlyArray<ValidationIssue>, cause?: unknown) {
    const summary = issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    super(`Invalid ${target} for step "${step}": ${summary}`, { code: 'VALIDATION', cause });
    this.step = step;
    this.target = target;
    this.issues = issues;
  }
}

/** True when the value is a {@link ValidationError} from any copy of Weft. */
export function isValidationError(value: unknown): value is ValidationError {
  return brandOf(value) === 'VALIDATION';
}
