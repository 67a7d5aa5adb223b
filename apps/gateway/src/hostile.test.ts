import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

// Hostile request targets, sent byte for byte over a socket (fetch would normalise them): auth is
// decided on the route Fastify matched, so no spelling of a route reaches a handler without a key.
const KEY = 'test-key-hostile-0001';

/** Sends one raw HTTP/1.1 request; resolves with the status code. */
function raw(port: number, method: string, target: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return rawResponse(port, method, target, body, headers).then((r) => r.status);
}

/** Sends one raw HTTP/1.1 request; resolves with the status, the headers (lower-cased) and the body. */
function rawResponse(port: number, method: string, target: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (!m) return reject(new Error(`no HTTP status in ${JSON.stringify(data.slice(0, 100))}`));
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const hs = Object.fromEntries(head.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(m[1]), headers: hs, body: rest.join('\r\n\r\n') });
    });
    const head = Object.entries({ host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...headers })
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n');
    socket.write(`${method} ${target} HTTP/1.1\r\n${head}\r\n\r\n${body}`);
  });
}

/** Every spelling of a path a router or a proxy might treat as the same route. */
function variants(path: string, port: number): string[] {
  const [, first, rest] = /^\/(\w)(.*)$/.exec(path)!;
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
  return [
    path,
    `/${hex(first!)}${rest}`, // /%761/answer
    `/${hex(first!).replace('%', '%25')}${rest}`, // double-encoded
    path.replace(/\//g, '%2F'),
    path.replace(/\/([a-z])/g, (_m, c: string) => `/${hex(c)}`),
    `${path}/`,
    path.toUpperCase(),
    `${path}?x=1`,
    `${path}#frag`,
    path.replace(/^\//, '/./'),
    path.replace(/^\/(\w+)\//, '/$1/x/../'),
    `//${path.slice(1)}`,
    `http://127.0.0.1:${port}${path}`, // absolute form
    `http://evil.example${path}`,
    `${path};jsessionid=1`,
  ];
}

describe('hostile request targets', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: `main:${KEY}`, RATE_LIMIT_RPS: '1000', RATE_LIMIT_BURST: '1000' }), { env: {} });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
  });

  const routes = [
    { path: '/v1/answer', body: JSON.stringify({ question: 'hi' }) },
    { path: '/v1/chat/completions', body: JSON.stringify({ model: 'economy', messages: [{ role: 'user', content: 'hi' }] }) },
  ];

  it('never runs a handler without a key, whatever the spelling of the route', async () => {
    const tried: string[] = [];
    for (const route of routes) {
      for (const target of variants(route.path, port)) {
        const status = await raw(port, 'POST', target, route.body);
        tried.push(`${status} ${target}`);
        // Refused (401), not found (404) or not a valid target (400): never served, never a 5xx.
        expect([400, 401, 404], `${target} -> ${status}`).toContain(status);
      }
    }
    // The spellings the router does match are refused for want of a key, not merely not found.
    expect(tried).toContain(`401 /%761/answer`);
    expect(tried).toContain(`401 http://127.0.0.1:${port}/v1/answer`);
    expect(tried.length).toBeGreaterThanOrEqual(30);
  });

  it('serves the same spellings with a key, so the refusals above are about the key', async () => {
    expect(await raw(port, 'POST', '/%761/answer', routes[0]!.body, { authorization: `Bearer ${KEY}` })).toBe(200);
    expect(await raw(port, 'POST', `http://127.0.0.1:${port}/v1/answer`, routes[0]!.body, { authorization: `Bearer ${KEY}` })).toBe(200);
  });

  it('keeps health and metrics public, and only them', async () => {
    expect(await raw(port, 'GET', '/health/live', '')).toBe(200);
    expect(await raw(port, 'GET', '/metrics', '')).toBe(200);
    expect(await raw(port, 'GET', '/%68ealth/live', '')).toBe(200);
  });

  it('answers a known path with the wrong method 405 and Allow, and an undecodable URL in the shared error shape', async () => {
    const wrongMethod = await rawResponse(port, 'GET', '/v1/answer', '');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(JSON.parse(wrongMethod.body)).toMatchObject({ error: 'method_not_allowed', correlationId: expect.any(String) as unknown });
    const badUrl = await rawResponse(port, 'GET', '/%zz', '');
    expect(badUrl.status).toBe(400);
    expect(JSON.parse(badUrl.body)).toMatchObject({ error: 'bad_url', correlationId: expect.any(String) as unknown });
    expect(badUrl.headers['x-correlation-id']).toBeDefined();
  });
});

describe('what third-party providers see and say', () => {
  it("never forwards the caller's correlation ID to a provider that did not opt in, and never echoes a provider's error text", async () => {
    const { createServer } = await import('node:http');
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    // A provider that fails, echoing the request's headers (its Authorization included) in its error.
    const provider = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad request with headers ${JSON.stringify(req.headers)}`, code: 'server_error' } }));
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    const port = (provider.address() as { port: number }).port;
    const app = await buildApp(
      loadConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        GATEWAY_API_KEYS: `main:${KEY}`,
        GATEWAY_PROVIDERS: 'echo',
        ECHO_BASE_URL: `http://127.0.0.1:${port}/v1`,
        ECHO_API_KEY: 'sk-provider-secret-0001',
        ECHO_MODEL: 'gpt-4o-mini',
        PROVIDER_RETRIES: '0',
      }),
      { env: {} },
    );
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const gw = (app.server.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${gw}/v1/answer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-correlation-id': 'caller-correlation-1', baggage: 'user=alice' }, body: JSON.stringify({ question: 'hi' }) });
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(text).not.toContain('sk-provider-secret-0001');
      expect(text).not.toContain('bad request with headers');
      expect(JSON.parse(text)).toMatchObject({ error: 'providers_unavailable', correlationId: 'caller-correlation-1' });
      expect(seen.length).toBeGreaterThan(0);
      for (const h of seen) {
        expect(h['x-correlation-id']).toBeUndefined();
        expect(h.baggage).toBeUndefined();
        expect(h.traceparent).toBeUndefined();
      }
    } finally {
      await app.close();
      await new Promise((r) => provider.close(r));
    }
  });
});

describe('time limits on slow clients', () => {
  /** Opens a connection, sends `head`, then trickles `trickle` a byte every 100 ms; resolves with what came back and when the server closed it. */
  function slowloris(port: number, head: string, trickle: string): Promise<{ ms: number; reply: string }> {
    return new Promise((resolve) => {
      const started = Date.now();
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      let i = 0;
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (reply += d));
      socket.on('error', () => undefined);
      const timer = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) socket.write(trickle[i++]!);
      }, 100);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ ms: Date.now() - started, reply });
      });
      socket.write(head);
    });
  }

  it('cuts off a trickled body and trickled headers within the configured limits, and serves others meanwhile', async () => {
    const app = await buildApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: `main:${KEY}`, HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '600' }), { env: {} });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as { port: number }).port;
      const body = JSON.stringify({ question: 'a question sent very slowly' });
      const slowBody = slowloris(port, `POST /v1/answer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, body);
      const slowOn404 = slowloris(port, `POST /nowhere HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, body);
      const slowHeaders = slowloris(port, 'GET /health/live HTTP/1.1\r\n', 'host: x\r\nx-slow: 1234567890123456789012345678901234567890\r\n\r\n');
      // Meanwhile an ordinary request is served at once.
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
      for (const [what, attack, limit] of [['body', slowBody, 1_000], ['404 body', slowOn404, 1_000], ['headers', slowHeaders, 600]] as const) {
        const r = await attack;
        // Cut within the limit plus Node's check interval and some scheduling slack, long before the trickle would end.
        expect(r.ms, what).toBeGreaterThanOrEqual(limit - 50);
        expect(r.ms, what).toBeLessThan(limit + 2_500);
        expect(r.reply, what).not.toMatch(/^HTTP\/1\.1 2/);
      }
    } finally {
      await app.close();
    }
  }, 20_000);
});

describe('browser and scrape access', () => {
  it('answers CORS only for the configured origins, and guards /metrics with a token when one is set', async () => {
    const app = await buildApp(
      loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: `main:${KEY}`, CORS_ORIGINS: 'https://app.example.com', METRICS_TOKEN: 'metrics-token-0123456789' }),
      { env: {} },
    );
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const preflight = (origin: string) => fetch(`${url}/v1/answer`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      const allowed = await preflight('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await preflight('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const scraped = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/http_server_requests_total/);
    } finally {
      await app.close();
    }
    // Off by default: no CORS header for anyone, and /metrics open to the scraper.
    const plain = await buildApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: `main:${KEY}` }), { env: {} });
    try {
      await plain.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(plain.server.address() as { port: number }).port}`;
      const r = await fetch(`${url}/health/live`, { headers: { origin: 'https://app.example.com' } });
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
