import { describe, expect, it } from 'vitest';
import { optionsFromEnv } from './options-from-env.js';

describe('optionsFromEnv', () => {
  it('serves alpha, beta and gamma with default behaviour when nothing is set', () => {
    expect(optionsFromEnv({})).toEqual({ providers: { alpha: {}, beta: {}, gamma: {} } });
  });

  it('reads the server, shared and per-provider settings', () => {
    const options = optionsFromEnv({
      PORT: '4010',
      HOST: '0.0.0.0',
      SIM_SEED: '42',
      SIM_API_KEY: 'shared',
      SIM_LOG: 'true',
      SIM_PROVIDERS: 'alpha, big-model',
      SIM_LATENCY_MS: '20',
      SIM_BIG_MODEL_LATENCY_MS: '250',
      SIM_BIG_MODEL_JITTER_MS: '50',
      SIM_BIG_MODEL_ERROR_RATE: '0.1',
      SIM_BIG_MODEL_ERROR_STATUS: '429',
      SIM_BIG_MODEL_RETRY_AFTER_S: '3',
      SIM_BIG_MODEL_DOWN: 'false',
      SIM_BIG_MODEL_API_KEY: 'big-key',
      SIM_BIG_MODEL_MODELS: 'big-1,big-2',
      SIM_ALPHA_DOWN: '1',
    });
    expect(options).toEqual({
      port: 4010,
      host: '0.0.0.0',
      seed: 42,
      apiKey: 'shared',
      logger: true,
      providers: {
        alpha: { latencyMs: 20, down: true },
        'big-model': { latencyMs: 250, jitterMs: 50, errorRate: 0.1, errorStatus: 429, retryAfterSeconds: 3, down: false, apiKey: 'big-key', models: ['big-1', 'big-2'] },
      },
    });
  });

  it('names the variable when a value is invalid', () => {
    expect(() => optionsFromEnv({ SIM_BETA_ERROR_RATE: '2' })).toThrow(new TypeError('Expected `SIM_BETA_ERROR_RATE` to be a number between 0 and 1, got "2"'));
    expect(() => optionsFromEnv({ SIM_LATENCY_MS: 'fast' })).toThrow(new TypeError('Expected `SIM_LATENCY_MS` to be an integer between 0 and 300000, got "fast"'));
    expect(() => optionsFromEnv({ SIM_ALPHA_ERROR_STATUS: '418' })).toThrow('Expected `SIM_ALPHA_ERROR_STATUS` to be one of 429, 500, 503, got "418"');
    expect(() => optionsFromEnv({ SIM_GAMMA_DOWN: 'maybe' })).toThrow('Expected `SIM_GAMMA_DOWN` to be a boolean, got "maybe"');
    expect(() => optionsFromEnv({ PORT: '-1' })).toThrow('Expected `PORT` to be an integer between 0 and 65535, got "-1"');
    expect(() => optionsFromEnv({ SIM_PROVIDERS: 'Alpha' })).toThrow(/`SIM_PROVIDERS`/);
  });
});
