import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, spawnApp, stopApp, waitForOutput, type RunningApp } from '@weft/service-kit/testing';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('gateway process (built dist/main.js)', () => {
  let running: RunningApp | undefined;
  beforeAll(() => ensureBuilt(APP_DIR), 120_000);
  afterEach(async () => {
    await stopApp(running);
    running = undefined;
  });

  it('prints the URL and a curl command with the demo key, and on SIGTERM finishes the request in flight and exits 0', async () => {
    running = spawnApp(APP_DIR, { PORT: '0', SIM_LATENCY_MS: '1500' });
    const [, url] = await waitForOutput(running, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    expect(running.stderr()).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/answer -H 'authorization: Bearer weft-demo-key-0001'/);
    const pending = fetch(`${url}/v1/answer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer weft-demo-key-0001' },
      body: JSON.stringify({ question: 'Does the drain wait for me?' }),
    });
    await new Promise((r) => setTimeout(r, 400));
    running.child.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { provider: string }).provider).toBe('beta');
    expect(await running.exited).toBe(0);
  });

  it('stops with a message naming the variable when the configuration is bad', async () => {
    running = spawnApp(APP_DIR, { PORT: 'seventy' });
    expect(await running.exited).toBe(1);
    expect(running.stderr()).toMatch(/invalid configuration: Expected `PORT` to be/);
  });

  it('names the variable to change when its port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      running = spawnApp(APP_DIR, { PORT: String(port) });
      expect(await running.exited).toBe(1);
      expect(running.stderr()).toMatch(new RegExp(`failed to start: port ${port} on 127\\.0\\.0\\.1 is already in use; set PORT`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
