import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@weft/test-support';
import { describe, expect, it } from 'vitest';

// The load tool's latencies must agree with the server's: with autocannon's coordinated-omission
// correction on, a run once reported a p50 of 712 ms where the server's was 3.4 ms. A short run of
// the built tool against a demo gateway it starts itself; its two summary lines are compared.

const load = fileURLToPath(new URL('../dist/load.js', import.meta.url));


describe('npm run load', () => {
  it("reports a client p50 that agrees with the server's own, and says which figures are which", async () => {
    expect(existsSync(load), `${load} is missing: build first`).toBe(true);
    const port = await freePort();
    const child = spawn(process.execPath, [load, '--seconds', '4', '--rate', '40', '--connections', '4', '--url', `http://127.0.0.1:${port}`], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, out).toBe(0);
    const client = /latency, client \(no coordinated-omission correction\): p50 ([\d.]+) ms/.exec(out);
    const server = /latency, server \(x-response-time of (\d+) answers\): p50 ([\d.]+) ms/.exec(out);
    expect(client, out).not.toBeNull();
    expect(server, out).not.toBeNull();
    const clientP50 = Number(client![1]);
    const serverP50 = Number(server![2]);
    console.log(`[load] client p50 ${clientP50} ms, server p50 ${serverP50} ms over ${server![1]} answers`);
    expect(Number(server![1])).toBeGreaterThan(20);
    // The client's figure includes the loopback round trip and the client itself: a little above the
    // server's, never the hundreds of times above that the correction produced.
    expect(clientP50).toBeGreaterThanOrEqual(Math.floor(serverP50) - 1);
    expect(clientP50).toBeLessThanOrEqual(serverP50 * 2 + 20);
  }, 60_000);
});
