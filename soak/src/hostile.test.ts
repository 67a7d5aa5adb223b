import { connect } from 'node:net';
import { buildApp as buildGateway } from '@weft/gateway/dist/app.js';
import { loadConfig as gatewayConfig } from '@weft/gateway/dist/config.js';
import { buildApp as buildOrders } from '@weft/orders/dist/app.js';
import { loadConfig as ordersConfig } from '@weft/orders/dist/config.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The hand-written attacks a generator would miss, kept as a suite beside the fuzz test: body bombs,
// request smuggling, prototype pollution, CRLF and NUL in headers, header floods, pipelining, key
// variants, odd methods, paths and encodings, against both sample services over raw sockets. Each
// case must be answered (or the connection closed) with no 5xx, no stack, path or internal message
// in what the client sees, no secret in the logs, and the service still alive afterwards.

const KEY = 'hostile-suite-key-0001';
const CARD = '4242424242424242';
/** What no client answer and no log line may contain. */
const LEAKS = [/\n\s+at \S+ \(/, /Cannot read propert/, /node:internal/, /\/work\/|\/home\/|\/usr\/|dist\/[\w-]+\.js/, /ReferenceError|TypeError:/, new RegExp(KEY), new RegExp(CARD)];
/** The longest a case may take before it counts as a hang (the attack held a connection 150 s). */
const HANG_MS = 15_000;

interface Outcome {
  /** Status codes of the responses, in order. */
  readonly statuses: number[];
  /** Everything the server sent. */
  readonly text: string;
  /** Whether the server closed the connection (or we gave up at HANG_MS, when `hung`). */
  readonly hung: boolean;
}

/**
 * Writes `parts` to a fresh connection (a part at a time) and reads until the server closes it or
 * `expect` responses are complete; the connection is then closed by us.
 */
function send(port: number, parts: ReadonlyArray<string | Buffer>, expectResponses = 1): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (hung: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ statuses: [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1])), text, hung });
    };
    const timer = setTimeout(() => finish(true), HANG_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks).toString('latin1')) >= expectResponses) finish(false);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => {
      for (const p of parts) if (!socket.destroyed) socket.write(p);
    });
  });
}

/** How many whole responses `text` holds (each with a content-length or a chunked body). */
function complete(text: string): number {
  let n = 0;
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return n;
    const head = text.slice(at, end).toLowerCase();
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    if (length) {
      const next = end + 4 + Number(length[1]);
      if (next > text.length) return n;
      n++;
      at = next;
    } else if (head.includes('transfer-encoding: chunked')) {
      const last = text.indexOf('\r\n0\r\n\r\n', end);
      if (last < 0) return n;
      n++;
      at = last + 7;
    } else {
      n++;
      at = end + 4;
    }
  }
}

function request(method: string, target: string, headers: Record<string, string>, body = ''): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}${lines.length ? '\r\n' : ''}\r\n${body}`;
}

const json = (body: string, extra: Record<string, string> = {}): Record<string, string> => ({ host: 'x', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra });

interface Case {
  readonly name: string;
  readonly parts: ReadonlyArray<string | Buffer>;
  /** Responses to wait for (pipelining). @default 1 */
  readonly responses?: number;
  /** Statuses the case may be answered with; every case allows the connection to be closed with no answer only when `mayClose`. */
  readonly allow?: (status: number) => boolean;
  readonly mayClose?: boolean;
}

const clientError = (s: number): boolean => s >= 400 && s < 500;

/** The cases for one JSON route: `target`, with `auth` headers that a valid request needs. */
function bodyCases(service: string, target: string, auth: Record<string, string>, valid: string): Case[] {
  const cases: Case[] = [];
  const add = (name: string, body: string | Buffer, extra: Record<string, string> = {}, allow: (s: number) => boolean = clientError): void => {
    const text = typeof body === 'string' ? body : body.toString('latin1');
    const headers = json(text, { ...auth, ...extra });
    if (typeof body === 'string') cases.push({ name: `${service} ${name}`, parts: [request('POST', target, headers, body)], allow });
    else cases.push({ name: `${service} ${name}`, parts: [request('POST', target, headers), body], allow });
  };
  for (const depth of [1_000, 30_000, 200_000]) {
    add(`array nesting depth ${depth}`, '['.repeat(depth) + ']'.repeat(depth));
    add(`object nesting depth ${depth}`, '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    add(`unclosed nesting depth ${depth}`, '['.repeat(depth));
  }
  add('prototype pollution via __proto__', `{"__proto__":{"polluted":"yes"},${valid.slice(1)}`);
  add('prototype pollution via constructor.prototype', `{"constructor":{"prototype":{"polluted":"yes"}},${valid.slice(1)}`);
  add('nested __proto__', `{"x":{"__proto__":{"polluted":"yes"}},${valid.slice(1)}`);
  add('duplicate keys', `${valid.slice(0, -1)},${valid.slice(1)}`, {}, (s) => s < 500);
  // An unknown extra field: a strict route refuses it, the OpenAI-compatible route ignores it as OpenAI's clients expect.
  add('huge number', valid.replace(/}$/, ',"n":1e309}'), {}, (s) => s < 500);
  add('lone surrogate', valid.replace(/}$/, ',"s":"\\ud800"}'), {}, (s) => s < 500);
  add('NUL in a string', valid.replace(/}$/, ',"s":"a\\u0000b"}'), {}, (s) => s < 500);
  add('raw NUL byte', Buffer.concat([Buffer.from(valid.slice(0, -1)), Buffer.from([0]), Buffer.from('}')]));
  add('invalid UTF-8', Buffer.concat([Buffer.from(valid.slice(0, -1) + ',"s":"'), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from('"}')]));
  add('UTF-8 BOM', `\ufeff${valid}`, {}, (s) => s < 500);
  add('truncated JSON', valid.slice(0, -3));
  add('JSON null', 'null');
  add('JSON string', '"hello"');
  add('JSON number', '42');
  add('empty array', '[]');
  add('empty body', '');
  add('whitespace body', '   ');
  add('10 MB string value', valid.replace(/}$/, `,"s":"${'x'.repeat(10_000_000)}"}`));
  add('100k keys', `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":1`).join(',')}}`);
  add('text/plain body', valid, { 'content-type': 'text/plain' });
  add('form body', 'question=hi', { 'content-type': 'application/x-www-form-urlencoded' });
  add('multipart body', '--b\r\ncontent-disposition: form-data; name="q"\r\n\r\nhi\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' });
  add('JSON declared as UTF-16', valid, { 'content-type': 'application/json; charset=utf-16' }, (s) => s < 500);
  add('gzip content-encoding on plain bytes', valid, { 'content-encoding': 'gzip' }, (s) => s < 500);
  add('content-type with parameters galore', valid, { 'content-type': `application/json;${'a=b;'.repeat(2_000)}` }, (s) => s < 500);
  add('no content-type', valid, { 'content-type': '' });
  add('content-length larger than the body', valid, { 'content-length': String(valid.length + 10) }, (s) => s < 500);
  // A 100 MB body, sent whole: refused at the body limit, long before it has all arrived.
  cases.push({ name: `${service} 100 MB body`, parts: [request('POST', target, json('', { ...auth, 'content-length': String(100 * 2 ** 20) })), ...Array.from({ length: 100 }, () => Buffer.alloc(2 ** 20, 0x61))], allow: clientError, mayClose: true });
  cases.push({ name: `${service} 100 MB chunked body`, parts: [request('POST', target, { host: 'x', 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...auth }), ...Array.from({ length: 100 }, () => Buffer.concat([Buffer.from('100000\r\n'), Buffer.alloc(2 ** 20, 0x61), Buffer.from('\r\n')]))], allow: clientError, mayClose: true });
  return cases;
}

/** Request smuggling and header-level attacks on `target`. */
function protocolCases(service: string, target: string, auth: Record<string, string>, valid: string): Case[] {
  const a = Object.entries(auth).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const c = (name: string, text: string, allow: (s: number) => boolean = clientError, mayClose = false): Case => ({ name: `${service} ${name}`, parts: [text], allow, mayClose });
  const len = Buffer.byteLength(valid);
  return [
    c('CL and TE together (CL.TE smuggling)', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ncontent-length: 6\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n`, clientError, true),
    c('TE then CL (TE.CL smuggling)', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}transfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`, clientError, true),
    c('two different content-lengths', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ncontent-length: ${len}\r\ncontent-length: ${len + 1}\r\n\r\n${valid}`, clientError, true),
    c('content-length with a sign', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ncontent-length: +${len}\r\n\r\n${valid}`, clientError, true),
    c('negative content-length', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-length: -1\r\n\r\n`, clientError, true),
    c('content-length overflow', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-length: 99999999999999999999999\r\n\r\n`, clientError, true),
    c('transfer-encoding: xchunked', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}transfer-encoding: xchunked\r\n\r\n0\r\n\r\n`, clientError, true),
    c('transfer-encoding: chunked, identity', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}transfer-encoding: chunked, identity\r\n\r\n0\r\n\r\n`, clientError, true),
    c('transfer-encoding with obs-fold', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}transfer-encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, clientError, true),
    c('invalid chunk size', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, clientError, true),
    c('chunk size overflow', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffff\r\n{}\r\n0\r\n\r\n`, clientError, true),
    c('chunk extension flood', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n2;${'x'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`, clientError, true),
    c('bare LF line endings', `POST ${target} HTTP/1.1\nhost: x\n${a.replace(/\r\n/g, '\n')}content-type: application/json\ncontent-length: ${len}\n\n${valid}`, (s) => s < 500, true),
    c('CR without LF in a header', `POST ${target} HTTP/1.1\r\nhost: x\r\nx-a: b\rinjected: 1\r\n${a}content-length: 0\r\n\r\n`, clientError, true),
    c('NUL in a header value', `GET /health/live HTTP/1.1\r\nhost: x\r\nx-a: b\u0000c\r\n\r\n`, clientError, true),
    c('NUL in the request target', `GET /health/live\u0000/x HTTP/1.1\r\nhost: x\r\n\r\n`, clientError, true),
    c('space before the colon', `GET /health/live HTTP/1.1\r\nhost : x\r\n\r\n`, clientError, true),
    c('header without a colon', `GET /health/live HTTP/1.1\r\nhost: x\r\nnocolon\r\n\r\n`, clientError, true),
    c('non-token header name', `GET /health/live HTTP/1.1\r\nhost: x\r\nx(y): 1\r\n\r\n`, clientError, true),
    c('1,000 headers', `GET /health/live HTTP/1.1\r\nhost: x\r\n${Array.from({ length: 1_000 }, (_, i) => `x-h${i}: ${i}\r\n`).join('')}\r\n`, (s) => s === 200 || s === 431, true),
    c('one 64 KB header', `GET /health/live HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(65_536)}\r\n\r\n`, clientError, true),
    c('a 100 KB URL', `GET /health/live?${'q'.repeat(100_000)} HTTP/1.1\r\nhost: x\r\n\r\n`, clientError, true),
    c('no Host header', `GET /health/live HTTP/1.1\r\n\r\n`, clientError, true),
    c('two Host headers', `GET /health/live HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n`, clientError, true),
    c('HTTP/0.9 request', `GET /health/live\r\n\r\n`, (s) => s === 200 || clientError(s), true),
    c('HTTP/2 preface on HTTP/1.1', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', clientError, true),
    c('unknown HTTP version', `GET /health/live HTTP/9.9\r\nhost: x\r\n\r\n`, (s) => s < 500 || s === 505, true),
    c('lower-case method', `get /health/live HTTP/1.1\r\nhost: x\r\n\r\n`, clientError, true),
    c('unknown method', `BREW /health/live HTTP/1.1\r\nhost: x\r\n\r\n`, clientError, true),
    c('CONNECT', `CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: 127.0.0.1:22\r\n\r\n`, clientError, true),
    c('TRACE', `TRACE ${target} HTTP/1.1\r\nhost: x\r\n\r\n`, clientError),
    c('OPTIONS with no CORS configured', `OPTIONS ${target} HTTP/1.1\r\nhost: x\r\norigin: http://evil.example\r\naccess-control-request-method: POST\r\n\r\n`, clientError),
    c('Expect: 100-continue then nothing', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ncontent-length: ${len}\r\nexpect: 100-continue\r\n\r\n`, (s) => s === 100 || clientError(s), true),
    c('Expect: something-else', `POST ${target} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ncontent-length: ${len}\r\nexpect: 200-ok\r\n\r\n${valid}`, clientError, true),
    c('upgrade to websocket', `GET /health/live HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n`, (s) => s === 200 || clientError(s), true),
    c('CRLF injection via correlation ID', `GET /health/live HTTP/1.1\r\nhost: x\r\nx-correlation-id: a%0d%0aset-cookie:%20x=1\r\n\r\n`, (s) => s === 200),
    c('oversized correlation ID', `GET /health/live HTTP/1.1\r\nhost: x\r\nx-correlation-id: ${'c'.repeat(10_000)}\r\n\r\n`, (s) => s === 200),
    c('absolute-form target to another host', `GET http://evil.example/health/live HTTP/1.1\r\nhost: x\r\n\r\n`, (s) => s === 200 || clientError(s)),
    c('asterisk-form target', `OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n`, clientError, true),
    c('path traversal', `GET /../../../etc/passwd HTTP/1.1\r\nhost: x\r\n\r\n`, clientError),
    c('encoded traversal', `GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nhost: x\r\n\r\n`, clientError),
    c('overlong UTF-8 slash', `GET /v1%c0%afanswer HTTP/1.1\r\nhost: x\r\n\r\n`, clientError),
    c('undecodable percent', `GET /%zz HTTP/1.1\r\nhost: x\r\n\r\n`, clientError),
    c('encoded NUL in the path', `GET /health/live%00 HTTP/1.1\r\nhost: x\r\n\r\n`, clientError),
    c('a 10,000-segment path', `GET /${'a/'.repeat(10_000)} HTTP/1.1\r\nhost: x\r\n\r\n`, clientError, true),
  ];
}

/** Pipelined requests on one connection: answered in order, a bad one in the middle included. */
function pipelineCases(service: string): Case[] {
  const live = request('GET', '/health/live', { host: 'x' });
  return [
    { name: `${service} 50 pipelined requests`, parts: [live.repeat(50)], responses: 50, allow: (s) => s === 200 },
    { name: `${service} pipelined, a 404 in the middle`, parts: [live + request('GET', '/nowhere', { host: 'x' }) + live], responses: 3, allow: (s) => s === 200 || s === 404 },
    { name: `${service} pipelined, one written a byte at a time`, parts: [...live.repeat(3)], responses: 3, allow: (s) => s === 200 },
    { name: `${service} pipelined, garbage after a good request`, parts: [live + '\u0000\u0001GARBAGE\r\n\r\n'], responses: 2, allow: (s) => s === 200 || clientError(s), mayClose: true },
  ];
}

/** Ways to present a key that is not quite the key: every one is refused. */
function keyCases(target: string, valid: string): Case[] {
  const variants: Record<string, Record<string, string>> = {
    'no key': {},
    'empty bearer': { authorization: 'Bearer ' },
    'key without scheme': { authorization: KEY },
    'Basic scheme': { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` },
    'key with a suffix': { authorization: `Bearer ${KEY}x` },
    'key prefix': { authorization: `Bearer ${KEY.slice(0, -1)}` },
    'key upper-cased': { authorization: `Bearer ${KEY.toUpperCase()}` },
    'key with a homoglyph': { authorization: `Bearer ${KEY.replace('o', '\u043e')}` },
    'key with a trailing NUL (encoded)': { 'x-api-key': `${KEY}%00` },
    'key twice in one header': { authorization: `Bearer ${KEY}, Bearer ${KEY}` },
    'key in a cookie': { cookie: `key=${KEY}` },
    'key percent-encoded': { 'x-api-key': encodeURIComponent(KEY).replace(/-/g, '%2D') },
    'key 10 KB long': { authorization: `Bearer ${'k'.repeat(10_000)}` },
  };
  const cases: Case[] = Object.entries(variants).map(([name, headers]) => ({ name: `gateway key: ${name}`, parts: [request('POST', target, json(valid, headers), valid)], allow: (s: number) => s === 401 }));
  cases.push({ name: 'gateway key: in the query string', parts: [request('POST', `${target}?api_key=${KEY}`, json(valid), valid)], allow: (s) => s === 401 });
  return cases;
}

let gateway: FastifyInstance;
let orders: FastifyInstance;
const logs: string[] = [];
const capture = { write: (line: string) => void logs.push(line) };

beforeAll(async () => {
  gateway = await buildGateway(
    gatewayConfig({ PORT: '0', LOG_LEVEL: 'info', GATEWAY_API_KEYS: `hostile:${KEY}:100`, RATE_LIMIT_RPS: '10000', RATE_LIMIT_BURST: '10000', SIM_LATENCY_MS: '1', HEDGE_QUANTILE: '0', HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '3000' }),
    { env: { SIM_LATENCY_MS: '1' }, logDestination: capture },
  );
  await gateway.listen({ port: 0, host: '127.0.0.1' });
  orders = await buildOrders(ordersConfig({ PORT: '0', LOG_LEVEL: 'info', HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '3000' }), { logDestination: capture });
  await orders.listen({ port: 0, host: '127.0.0.1' });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await orders?.close();
});

const portOf = (app: FastifyInstance): number => (app.server.address() as { port: number }).port;
const question = JSON.stringify({ question: 'What is hostile input?', tier: 'economy' });
const order = JSON.stringify({ sku: 'tea', quantity: 1, card: CARD, postcode: '10115' });
const auth = { authorization: `Bearer ${KEY}` };

describe('the hostile-input suite', () => {
  const suites: Array<[string, () => FastifyInstance, Case[]]> = [
    ['gateway', () => gateway, [...bodyCases('gateway', '/v1/answer', auth, question), ...bodyCases('gateway chat', '/v1/chat/completions', auth, JSON.stringify({ model: 'economy', messages: [{ role: 'user', content: 'hi' }] })), ...protocolCases('gateway', '/v1/answer', auth, question), ...pipelineCases('gateway'), ...keyCases('/v1/answer', question)]],
    ['orders', () => orders, [...bodyCases('orders', '/v1/orders', {}, order), ...protocolCases('orders', '/v1/orders', {}, order), ...pipelineCases('orders')]],
  ];

  for (const [service, app, cases] of suites) {
    it(`${service}: ${cases.length} cases, every one answered with a 4xx (or its expected status), no hang, no leak, and the service alive after`, async () => {
      const failures: string[] = [];
      let fiveXx = 0;
      let hung = 0;
      for (const c of cases) {
        const out = await send(portOf(app()), c.parts, c.responses ?? 1);
        const allow = c.allow ?? clientError;
        if (out.hung) hung++;
        if (out.statuses.some((s) => s >= 500)) fiveXx++;
        const leak = LEAKS.find((re) => re.test(out.text));
        if (out.hung) failures.push(`${c.name}: no answer within ${HANG_MS} ms`);
        else if (out.statuses.length === 0 && !c.mayClose) failures.push(`${c.name}: closed with no answer`);
        else if (out.statuses.some((s) => !allow(s))) failures.push(`${c.name}: answered ${out.statuses.join(', ')}`);
        else if ((c.responses ?? 1) > 1 && !c.mayClose && out.statuses.length !== c.responses) failures.push(`${c.name}: ${out.statuses.length} of ${c.responses} pipelined answers`);
        if (leak) failures.push(`${c.name}: the answer leaks ${leak} (${JSON.stringify(out.text.slice(0, 300))})`);
        const live = await send(portOf(app()), [request('GET', '/health/live', { host: 'x' })]);
        if (live.statuses[0] !== 200) failures.push(`${c.name}: /health/live answered ${live.statuses.join(',') || 'nothing'} afterwards`);
      }
      console.log(`[hostile] ${service}: ${cases.length} cases, ${fiveXx} answered 5xx, ${hung} hung, ${failures.length} failures`);
      expect(failures).toEqual([]);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      const leaked = logs.filter((l) => LEAKS.slice(-2).some((re) => re.test(l)));
      expect(leaked, 'log lines with the API key or the card number').toEqual([]);
    }, 300_000);
  }

  it('the services still do their job after the whole suite', async () => {
    const answer = await fetch(`http://127.0.0.1:${portOf(gateway)}/v1/answer`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: question });
    expect(answer.status).toBe(200);
    const placed = await fetch(`http://127.0.0.1:${portOf(orders)}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: order });
    expect(placed.status).toBe(201);
  });
});
