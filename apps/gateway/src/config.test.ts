import { describe, expect, it } from 'vitest';
import { envReferenceBlocks } from '@weft/service-kit/testing';
import { ConfigError, environmentReference, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to the embedded demo: simulated providers, in-memory stores, port 3000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, providerMode: 'simulated', redisUrl: undefined, providers: [] });
  });

  it('reads OpenAI-compatible providers from <NAME>_BASE_URL, _API_KEY and _MODEL', () => {
    const config = loadConfig({ GATEWAY_PROVIDERS: 'openai', OPENAI_BASE_URL: 'https://api.openai.com/v1/', OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'gpt-4o-mini', OPENAI_QUALITY: '0.8' });
    expect(config.providers).toEqual([{ name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-test', model: 'gpt-4o-mini', quality: 0.8, priceInput: undefined, priceOutput: undefined, propagateContext: false }]);
  });

  it('reads the provider bulkhead and premium hedging settings, with per-provider limits', () => {
    expect(loadConfig({})).toMatchObject({ providerMaxConcurrent: 32, providerMaxQueue: 32, hedgeQuantile: 0.95, hedgeDelayMs: 2_000 });
    const config = loadConfig({
      PROVIDER_MAX_CONCURRENT: '8',
      PROVIDER_MAX_QUEUE: '0',
      HEDGE_QUANTILE: '0',
      HEDGE_DELAY_MS: '500',
      GATEWAY_PROVIDERS: 'openai,local',
      OPENAI_BASE_URL: 'https://api.openai.com/v1',
      OPENAI_MODEL: 'gpt-4o-mini',
      OPENAI_MAX_CONCURRENT: '50',
      OPENAI_MAX_QUEUE: '100',
      LOCAL_BASE_URL: 'http://127.0.0.1:8000/v1',
      LOCAL_MODEL: 'gpt-4o-mini',
    });
    expect(config).toMatchObject({ providerMaxConcurrent: 8, providerMaxQueue: 0, hedgeQuantile: 0, hedgeDelayMs: 500 });
    expect(config.providers[0]).toMatchObject({ name: 'openai', maxConcurrent: 50, maxQueue: 100 });
    expect(config.providers[1]).not.toHaveProperty('maxConcurrent');
    expect(() => loadConfig({ PROVIDER_MAX_CONCURRENT: '0' })).toThrow(/Expected `PROVIDER_MAX_CONCURRENT` to be an integer >= 1, got "0"/);
    expect(() => loadConfig({ PROVIDER_MAX_QUEUE: '-1' })).toThrow(/`PROVIDER_MAX_QUEUE`/);
    expect(() => loadConfig({ HEDGE_QUANTILE: '1.5' })).toThrow(/Expected `HEDGE_QUANTILE` to be a number from 0 \(off\) to 1, got "1.5"/);
    expect(() => loadConfig({ GATEWAY_PROVIDERS: 'openai', OPENAI_BASE_URL: 'https://x', OPENAI_MODEL: 'm', OPENAI_MAX_CONCURRENT: 'many' })).toThrow(/`OPENAI_MAX_CONCURRENT`/);
  });

  it('throws a ConfigError naming the variable for a bad or missing value', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/Expected `PORT` to be an integer <= 65535, got "70000"/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/`REDIS_URL`/);
    expect(() => loadConfig({ GATEWAY_PROVIDERS: 'openai' })).toThrow(/Expected `OPENAI_BASE_URL` to be set/);
    expect(() => loadConfig({ GATEWAY_PROVIDERS: 'openai', OPENAI_BASE_URL: 'https://x', OPENAI_MODEL: 'm', OPENAI_API_KEY: '' , OPENAI_PRICE_INPUT: '1' })).toThrow(/`OPENAI_PRICE_OUTPUT`/);
    const error = (() => {
      try {
        loadConfig({ DAILY_BUDGET_USD: '-1' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('DAILY_BUDGET_USD');
  });
});

describe('safe by default', () => {
  it('refuses the simulated providers and demo keys in production unless GATEWAY_DEMO=true', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/`GATEWAY_PROVIDERS`.*GATEWAY_DEMO=true/);
    expect(loadConfig({ NODE_ENV: 'production', GATEWAY_DEMO: 'true' }).providerMode).toBe('simulated');
    expect(loadConfig({}).providerMode).toBe('simulated');
    expect(() => loadConfig({ GATEWAY_DEMO: 'false' })).toThrow(/`GATEWAY_PROVIDERS`/);
    expect(loadConfig({ NODE_ENV: 'production', GATEWAY_PROVIDERS: 'openai', OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_MODEL: 'gpt-4o-mini' }).providerMode).toBe('configured');
  });
});

describe('the environment reference', () => {
  it('in the README matches the schemas (UPDATE_ENV_DOCS=1 rewrites it)', () => {
    const { actual, wanted } = envReferenceBlocks(new URL('../README.md', import.meta.url), environmentReference());
    expect(actual).toBe(wanted);
    expect(wanted).toMatch(/\| `GATEWAY_API_KEYS` \| unset \|/);
    expect(wanted).toMatch(/\| `PORT` \| `3000` \|/);
  });
});
