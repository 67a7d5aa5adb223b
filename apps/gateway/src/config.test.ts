import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to the embedded demo: simulated providers, in-memory stores, port 3000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, providerMode: 'simulated', redisUrl: undefined, providers: [] });
  });

  it('reads OpenAI-compatible providers from <NAME>_BASE_URL, _API_KEY and _MODEL', () => {
    const config = loadConfig({ GATEWAY_PROVIDERS: 'openai', OPENAI_BASE_URL: 'https://api.openai.com/v1/', OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'gpt-4o-mini', OPENAI_QUALITY: '0.8' });
    expect(config.providers).toEqual([{ name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-test', model: 'gpt-4o-mini', quality: 0.8, priceInput: undefined, priceOutput: undefined }]);
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
