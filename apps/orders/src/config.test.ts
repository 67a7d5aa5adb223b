import { envReferenceBlocks } from '@weft/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { environmentReference, loadConfig } from './config.js';

describe('orders configuration', () => {
  it('needs REDIS_URL for the api and worker roles, naming it', () => {
    expect(() => loadConfig({ ORDERS_ROLE: 'worker' })).toThrow(/`REDIS_URL`/);
    expect(loadConfig({ ORDERS_ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:6379' }).role).toBe('api');
    expect(() => loadConfig({ ORDERS_ROLE: 'boss' })).toThrow(/`ORDERS_ROLE`/);
  });

  it('documents every variable in the README, matching the schemas (UPDATE_ENV_DOCS=1 rewrites it)', () => {
    const { actual, wanted } = envReferenceBlocks(new URL('../README.md', import.meta.url), environmentReference());
    expect(actual).toBe(wanted);
    expect(wanted).toMatch(/\| `ORDERS_ROLE` \| `all` \|/);
  });
});
