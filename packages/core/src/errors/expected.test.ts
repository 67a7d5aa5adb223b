import { describe, expect, it } from 'vitest';
import { errorFromJson, errorToJson } from '../internal/error-json.js';
import { BudgetExceededError } from './budget-exceeded-error.js';
import { isExpectedError, markExpected, runOutcome } from './expected.js';
import { RateLimitedError } from './rate-limited-error.js';
import { RetryExhaustedError } from './retry-exhausted-error.js';
import { TimeoutError } from './timeout-error.js';
import { ValidationError } from './validation-error.js';
import { AbortedError } from './aborted-error.js';
import { CircuitOpenError } from './circuit-open-error.js';

describe('expected errors and run outcomes', () => {
  it('counts refusals by design as rejected and everything else as failed', () => {
    expect(runOutcome()).toBe('succeeded');
    expect(runOutcome(new ValidationError('llm', 'input', []))).toBe('rejected');
    expect(runOutcome(new RateLimitedError(100))).toBe('rejected');
    expect(runOutcome(new BudgetExceededError('daily', 1, 2))).toBe('rejected');
    expect(runOutcome(new TimeoutError(1_000))).toBe('failed');
    expect(runOutcome(new AbortedError())).toBe('failed');
    expect(runOutcome(new CircuitOpenError('provider', 1_000))).toBe('failed');
    expect(runOutcome(new Error('ECONNRESET'))).toBe('failed');
    expect(runOutcome(undefined)).toBe('failed'); // a run that threw undefined did not succeed
  });

  it('lets an error declare itself expected, by class field or by markExpected', () => {
    class CardDeclined extends Error {
      readonly expected = true;
    }
    expect(isExpectedError(new CardDeclined('declined'))).toBe(true);
    expect(isExpectedError(markExpected(new Error('undeliverable address')))).toBe(true);
    expect(isExpectedError({ expected: 'yes' })).toBe(false);
    expect(isExpectedError('declined')).toBe(false);
  });

  it('reads only the error itself: a retry that gave up on a rate-limited dependency failed', () => {
    const gaveUp = new RetryExhaustedError(3, new RateLimitedError(100));
    expect(runOutcome(gaveUp)).toBe('failed');
  });

  it('keeps the declaration through storage', () => {
    const stored = JSON.parse(JSON.stringify(errorToJson(markExpected(new Error('declined'))))) as Parameters<typeof errorFromJson>[0];
    expect(isExpectedError(errorFromJson(stored))).toBe(true);
    expect(errorToJson(new Error('boom'))).not.toHaveProperty('expected');
  });
});
