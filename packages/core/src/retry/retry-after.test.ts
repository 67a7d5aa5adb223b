import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retryAfterFrom } from './retry-after.js';
import { RateLimitedError } from '../errors/rate-limited-error.js';
import { CircuitOpenError } from '../errors/circuit-open-error.js';

describe('retryAfterFrom', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads milliseconds from a numeric retryAfter, as RateLimitedError carries', () => {
    expect(retryAfterFrom(new RateLimitedError(250))).toBe(250);
    expect(retryAfterFrom(new CircuitOpenError('db', 1_500))).toBe(1_500);
  });

  it('reads a string retryAfter as an HTTP Retry-After value in seconds or as a date', () => {
    expect(retryAfterFrom({ retryAfter: '2' })).toBe(2_000);
    expect(retryAfterFrom({ retryAfter: ' 1.5 ' })).toBe(1_500);
    expect(retryAfterFrom({ retryAfter: 'Thu, 01 Jan 2026 00:00:05 GMT' })).toBe(5_000);
    expect(retryAfterFrom({ retryAfter: 'Wed, 31 Dec 2025 23:00:00 GMT' })).toBe(0);
  });

  it('reads retry-after headers from fetch-style and plain header objects', () => {
    expect(retryAfterFrom({ response: { headers: new Headers({ 'Retry-After': '3' }) } })).toBe(3_000);
    expect(retryAfterFrom({ headers: { 'retry-after': '4' } })).toBe(4_000);
    expect(retryAfterFrom({ headers: { 'Retry-After': ['5'] } })).toBe(5_000);
    expect(retryAfterFrom({ headers: { 'retry-after-ms': '120', 'retry-after': '9' } })).toBe(120);
  });

  it('returns undefined for no hint or a malformed one', () => {
    expect(retryAfterFrom(new Error('plain'))).toBeUndefined();
    expect(retryAfterFrom('string')).toBeUndefined();
    expect(retryAfterFrom(null)).toBeUndefined();
    expect(retryAfterFrom({ retryAfter: -5 })).toBeUndefined();
    expect(retryAfterFrom({ retryAfter: Number.NaN })).toBeUndefined();
    expect(retryAfterFrom({ retryAfter: '-1' })).toBeUndefined();
    expect(retryAfterFrom({ retryAfter: 'soon' })).toBeUndefined();
    expect(retryAfterFrom({ headers: { 'retry-after': 'later' } })).toBeUndefined();
  });

  it('never throws, even on a hostile getter', () => {
    const hostile = Object.defineProperty({}, 'retryAfter', {
      get() {
        throw new Error('gotcha');
      },
    });
    expect(retryAfterFrom(hostile)).toBeUndefined();
  });
});
