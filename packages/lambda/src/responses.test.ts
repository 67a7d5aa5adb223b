import { AbortedError, BudgetExceededError, BulkheadRejectedError, CircuitOpenError, RateLimitedError, RetryExhaustedError, TimeoutError, ValidationError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { errorResponse } from './responses.js';

describe('errorResponse', () => {
  it('gives each typed Weft error the status the gateway gives it, with a generic message', () => {
    expect(errorResponse(new ValidationError('validate', 'input', [{ path: ['question'], message: 'Too small' }]))).toMatchObject({ status: 400, error: 'invalid_request', details: { issues: [{ path: 'question', message: 'Too small' }] } });
    expect(errorResponse(new RateLimitedError(2_500))).toMatchObject({ status: 429, error: 'rate_limited', headers: { 'retry-after': '3' } });
    expect(errorResponse(new BudgetExceededError('daily', 1, 1.2))).toMatchObject({ status: 402, error: 'budget_exhausted' });
    expect(errorResponse(new BudgetExceededError('daily', 1, Number.NaN))).toMatchObject({ status: 503, error: 'budget_unavailable' });
    expect(errorResponse(new CircuitOpenError('provider', 1_000))).toMatchObject({ status: 503 });
    expect(errorResponse(new BulkheadRejectedError(4, 0))).toMatchObject({ status: 503 });
    expect(errorResponse(new TimeoutError(1_000))).toMatchObject({ status: 504, error: 'timeout' });
    // In a function there is no client to go away: an abort is the invocation's deadline.
    expect(errorResponse(new AbortedError())).toMatchObject({ status: 504 });
    const upstream = errorResponse(new RetryExhaustedError(3, new Error('Provider beta answered 500: secret-token-123 leaked')));
    expect(upstream).toMatchObject({ status: 503, error: 'unavailable' });
    expect(JSON.stringify(upstream)).not.toContain('secret-token');
  });
});
