import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { envInt, envReader, loadServiceConfig, readEnv } from './env.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected a throw');
}

describe('readEnv', () => {
  it('trims values and treats empty strings as unset', () => {
    expect(readEnv({ PORT: ' 8080 ' }, 'PORT', envInt(0, 65_535).default(3000))).toBe(8080);
    expect(readEnv({ PORT: '  ' }, 'PORT', envInt(0, 65_535).default(3000))).toBe(3000);
  });

  it('throws a ConfigError naming the variable, what it expected and what it got', () => {
    const error = errorOf(() => readEnv({ PORT: '70000' }, 'PORT', envInt(0, 65_535)));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe('PORT');
    expect(error.message).toBe('Expected `PORT` to be an integer <= 65535, got "70000"');
  });

  it('says "set" for a missing required variable', () => {
    expect(() => readEnv({}, 'OPENAI_MODEL', z.string())).toThrow('Expected `OPENAI_MODEL` to be set, got nothing');
  });

  it('hides the value of API keys', () => {
    const error = errorOf(() => readEnv({ OPENAI_API_KEY: 'sk-secret' }, 'OPENAI_API_KEY', z.string().min(20, { error: 'a long key' })));
    expect(error.message).toBe('Expected `OPENAI_API_KEY` to be a long key, got a value (hidden)');
    expect(error.message).not.toContain('sk-secret');
  });
});

describe('envReader', () => {
  it('reads each variable through its schema', () => {
    const v = envReader({ TIMEOUT_MS: '250' }, { TIMEOUT_MS: envInt(1, 1_000).default(5), NAME: z.string().default('x') });
    expect(v('TIMEOUT_MS')).toBe(250);
    expect(v('NAME')).toBe('x');
  });
});

describe('loadServiceConfig', () => {
  it('defaults the shared variables from the service name and port', () => {
    expect(loadServiceConfig({}, { name: 'orders', port: 3001 })).toEqual({
      port: 3001,
      host: '127.0.0.1',
      logLevel: 'info',
      simPort: 0,
      redisUrl: undefined,
      redisPrefix: 'weft-orders',
      shutdownTimeoutMs: 10_000,
      otlpEndpoint: undefined,
      serviceName: 'weft-orders',
      httpRequestTimeoutMs: 30_000,
      httpHeadersTimeoutMs: 10_000,
      httpKeepAliveTimeoutMs: 5_000,
      corsOrigins: [],
      metricsToken: undefined,
    });
  });

  it('rejects a bad shared variable by name', () => {
    expect(() => loadServiceConfig({ LOG_LEVEL: 'loud' }, { name: 'a', port: 1 })).toThrow('Expected `LOG_LEVEL` to be one of trace, debug, info, warn, error, fatal, silent, got "loud"');
    expect(() => loadServiceConfig({ REDIS_URL: 'localhost:6379' }, { name: 'a', port: 1 })).toThrow(/`REDIS_URL` to be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => loadServiceConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' }, { name: 'a', port: 1 })).toThrow(/`OTEL_EXPORTER_OTLP_ENDPOINT` to be an http\(s\) URL/);
  });
});
