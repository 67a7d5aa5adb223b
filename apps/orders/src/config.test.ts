import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { environmentReference, loadConfig } from './config.js';

describe('orders configuration', () => {
  it('needs REDIS_URL for the api and worker roles, naming it', () => {
    expect(() => loadConfig({ ORDERS_ROLE: 'worker' })).toThrow(/`REDIS_URL`/);
    expect(loadConfig({ ORDERS_ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:6379' }).role).toBe('api');
    expect(() => loadConfig({ ORDERS_ROLE: 'boss' })).toThrow(/`ORDERS_ROLE`/);
  });

  it('documents every variable in the README, matching the schemas (UPDATE_ENV_DOCS=1 rewrites it)', () => {
    const path = new URL('../README.md', import.meta.url);
    const readme = readFileSync(path, 'utf8');
    const block = /<!-- env:start -->\n[\s\S]*?<!-- env:end -->/;
    const wanted = `<!-- env:start -->\n${environmentReference()}\n<!-- env:end -->`;
    if (process.env.UPDATE_ENV_DOCS === '1') writeFileSync(path, readme.replace(block, wanted));
    expect(readFileSync(path, 'utf8').match(block)?.[0]).toBe(wanted);
    expect(wanted).toMatch(/\| `ORDERS_ROLE` \| `all` \|/);
  });
});
