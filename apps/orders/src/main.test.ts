import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, spawnApp, stopApp, waitForOutput, type RunningApp } from '@weft/service-kit/testing';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('orders process (built dist/main.js)', () => {
  let running: RunningApp | undefined;
  beforeAll(() => ensureBuilt(APP_DIR), 120_000);
  afterEach(async () => {
    await stopApp(running);
    running = undefined;
  });

  it('on SIGTERM finishes the order in flight and exits 0', async () => {
    running = spawnApp(APP_DIR, { PORT: '0', SIM_LATENCY_MS: '300' });
    const [, url] = await waitForOutput(running, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const pending = fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'tea', quantity: 1, card: '4242424242424242', postcode: '10115' }) });
    await new Promise((r) => setTimeout(r, 200));
    running.child.kill('SIGTERM');
    expect((await pending).status).toBe(201);
    expect(await running.exited).toBe(0);
  });

  it('stops with a message naming the variable when the configuration is bad', async () => {
    running = spawnApp(APP_DIR, { REDIS_URL: 'localhost:6379' });
    expect(await running.exited).toBe(1);
    expect(running.stderr()).toMatch(/invalid configuration: Expected `REDIS_URL` to be/);
  });
});
