import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Traces really leave the process: the built gateway, started as a user starts it with
// OTEL_EXPORTER_OTLP_ENDPOINT set, exports over OTLP/HTTP (JSON, what @opentelemetry/exporter-trace-otlp-http
// sends) to a receiver on loopback that this test runs and decodes. One trace must run from the
// caller's traceparent through the gateway's SERVER span, the workflow, its steps and attempts, the
// provider call's CLIENT span, to the simulated provider's SERVER span, each the child of the one before.

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
}
interface OtlpExport {
  readonly resourceSpans: ReadonlyArray<{ resource: { attributes: ReadonlyArray<{ key: string; value: { stringValue?: string } }> }; scopeSpans: ReadonlyArray<{ spans: readonly OtlpSpan[] }> }>;
}

const received: Array<{ service: string; span: OtlpSpan }> = [];
const contentTypes: string[] = [];
let receiver: Server;
let endpoint = '';

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']));
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const span of ss.spans) received.push({ service, span });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
});

afterAll(() => {
  receiver?.close();
});

describe('OTLP export', () => {
  it('sends one trace from the caller through the gateway, the workflow, its steps and attempts, to the provider', async () => {
    expect(existsSync(main), `${main} is missing: build first`).toBe(true);
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', SIM_PORT: '0', LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'weft-gateway' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let out = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = once(child, 'exit');
    try {
      const deadline = Date.now() + 20_000;
      let url: string | undefined;
      while (url === undefined && Date.now() < deadline && child.exitCode === null) {
        url = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
        if (url === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, `the gateway did not start: ${out}`).toBeDefined();
      const response = await fetch(`${url}/v1/answer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer weft-demo-key-0001', traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
        body: JSON.stringify({ question: 'Where do traces go?', tier: 'standard' }),
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    } finally {
      // A graceful stop flushes the batch span processor before the process exits.
      child.kill('SIGTERM');
      await exited;
    }

    const trace = received.filter((r) => r.span.traceId === CALLER_TRACE);
    const byId = new Map(trace.map((r) => [r.span.spanId, r]));
    console.log(`[otlp] ${received.length} spans received (${[...new Set(contentTypes)].join(', ')}); in the caller's trace: ${trace.map((r) => `${r.service}:${r.span.name}`).join(' | ')}`);
    expect(contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);

    const server = trace.find((r) => r.span.kind === 2 && r.span.name.startsWith('POST /v1/answer'));
    expect(server, 'the gateway SERVER span').toBeDefined();
    expect(server!.span.parentSpanId).toBe(CALLER_SPAN);
    const provider = trace.find((r) => r.span.kind === 2 && r.span.name.startsWith('POST /p/'));
    expect(provider, "the simulated provider's SERVER span").toBeDefined();
    // Walk from the provider's span up to the caller: every parent is in the trace, and the chain
    // passes the workflow, a retry, an attempt and the gateway's SERVER span.
    const chain: string[] = [];
    let at: { span: OtlpSpan } | undefined = provider;
    while (at !== undefined) {
      chain.push(at.span.name);
      if (at.span.parentSpanId === CALLER_SPAN) break;
      at = at.span.parentSpanId === undefined ? undefined : byId.get(at.span.parentSpanId);
      expect(at, `the parent of ${chain.at(-1)} is in the trace`).toBeDefined();
    }
    console.log(`[otlp] provider to caller: ${chain.join(' <- ')}`);
    expect(chain.at(-1)).toBe(server!.span.name);
    expect(chain.some((n) => /answer/.test(n) && n !== server!.span.name)).toBe(true); // the workflow's span
    // Each attempt of a retried step is a span of the step's name, child of the retry's span.
    const retry = chain.findIndex((n) => n.startsWith('retry '));
    expect(retry).toBeGreaterThan(0);
    expect(chain[retry - 1]).toBe(chain[retry]!.slice('retry '.length));
    // The provider call's CLIENT span sits between the attempt and the provider's SERVER span.
    expect(trace.some((r) => r.span.kind === 3 && r.span.spanId === provider!.span.parentSpanId)).toBe(true);
    expect(chain.length).toBeGreaterThanOrEqual(6);
  }, 60_000);
});
