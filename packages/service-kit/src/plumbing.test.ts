import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';
import { clientGone, installPlumbing } from './plumbing.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function listen(build: (app: FastifyInstance) => void): Promise<number> {
  app = Fastify();
  build(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function get(port: number, path: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

describe('clientGone', () => {
  it('aborts when the client closes the connection before the reply is sent', async () => {
    let resolveAborted!: (reason: unknown) => void;
    const aborted = new Promise<unknown>((r) => (resolveAborted = r));
    let resolveEntered!: () => void;
    const entered = new Promise<void>((r) => (resolveEntered = r));
    const port = await listen((a) =>
      a.get('/slow', async (_request, reply) => {
        const signal = clientGone(reply);
        signal.addEventListener('abort', () => resolveAborted(signal.reason), { once: true });
        resolveEntered();
        await aborted;
        return 'late';
      }),
    );
    const req = httpRequest({ host: '127.0.0.1', port, path: '/slow' });
    req.on('error', () => {});
    req.end();
    await entered;
    req.destroy();
    const reason = await aborted;
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).message).toBe('The client closed the connection');
  });

  it('stays unaborted across the replies sent on a keep-alive connection, and makes one signal per connection', async () => {
    const signals: AbortSignal[] = [];
    const port = await listen((a) =>
      a.get('/ok', async (_request, reply) => {
        signals.push(clientGone(reply));
        return 'ok';
      }),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(port, '/ok', agent)).toBe('ok');
      expect(await get(port, '/ok', agent)).toBe('ok');
    } finally {
      agent.destroy();
    }
    expect(signals).toHaveLength(2);
    expect(signals[1]).toBe(signals[0]);
    expect(signals[0]!.aborted).toBe(false);
  });

  it('gives each injected request (no real socket) a signal of its own', async () => {
    const signals: AbortSignal[] = [];
    app = Fastify();
    app.get('/ok', async (_request, reply) => {
      signals.push(clientGone(reply));
      return 'ok';
    });
    expect((await app.inject({ method: 'GET', url: '/ok' })).body).toBe('ok');
    expect((await app.inject({ method: 'GET', url: '/ok' })).body).toBe('ok');
    expect(signals).toHaveLength(2);
    expect(signals[1]).not.toBe(signals[0]);
  });
});

describe('installPlumbing', () => {
  it('refuses a request that names Host twice with 400, and answers one that names it once', async () => {
    const port = await listen((a) => installPlumbing(a, createMetrics('plumbing-test')));
    const send = (head: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(`GET /health/live HTTP/1.1\r\n${head}\r\n`));
        let text = '';
        socket.setEncoding('utf8').on('data', (d: string) => (text += d));
        socket.on('close', () => resolve(text));
      });
    const twice = await send('host: a\r\nHost: b\r\nconnection: close\r\n');
    expect(twice).toMatch(/^HTTP\/1\.1 400 /);
    expect(twice).toContain('more than one Host header');
    expect(twice).toMatch(/"correlationId":"[^"]+"/);
    expect(await send('host: a\r\nconnection: close\r\n')).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('request metrics', () => {
  it('count a request whose client gave up as 499 with the time it waited, once, and show every route at 0 before any request', async () => {
    const metrics = createMetrics('plumbing-test');
    let resolveEntered!: () => void;
    const entered = new Promise<void>((r) => (resolveEntered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const port = await listen((a) => {
      installPlumbing(a, metrics);
      a.get('/slow', async (_request, reply) => {
        const gone = clientGone(reply);
        resolveEntered();
        await new Promise<void>((r) => gone.addEventListener('abort', () => r(), { once: true }));
        await released;
        return 'late'; // answered after the client left: must not be counted a second time
      });
    });
    const fresh = await metrics.registry.metrics();
    expect(fresh).toMatch(/http_server_requests_total\{method="GET",route="\/slow",status="499",service="plumbing-test"\} 0/);
    expect(fresh).toMatch(/http_server_request_duration_seconds_count\{service="plumbing-test",method="GET",route="\/slow"\} 0/);

    const req = httpRequest({ host: '127.0.0.1', port, path: '/slow' });
    req.on('error', () => {});
    req.end();
    await entered;
    req.destroy();
    // The abort hook runs when the server sees the connection close.
    for (let i = 0; i < 200 && !/status="499",service="plumbing-test"\} 1/.test(await metrics.registry.metrics()); i++) await new Promise((r) => setImmediate(r));
    release();
    await new Promise((r) => setTimeout(r, 20));
    const after = await metrics.registry.metrics();
    expect(after).toMatch(/http_server_requests_total\{method="GET",route="\/slow",status="499",service="plumbing-test"\} 1/);
    expect(after).not.toMatch(/route="\/slow",status="200"/);
    expect(after).toMatch(/http_server_request_duration_seconds_count\{service="plumbing-test",method="GET",route="\/slow"\} 1/);
    metrics.stop();
  });
});
