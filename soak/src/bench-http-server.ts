/**
 * One server of the HTTP benchmark, run in its own process so both sides have the same layout:
 *
 *   node dist/bench-http-server.js gateway          the full gateway (demo providers, metrics, logs at LOG_LEVEL)
 *   node dist/bench-http-server.js bare '<json>'    bare Fastify: POST /v1/answer parses the body and returns <json>
 *   node dist/bench-http-server.js bare-als '<json>' bare Fastify whose handler runs inside AsyncLocalStorage.run (Node's floor for any context-carrying library)
 *   node dist/bench-http-server.js step '<json>'    the same route, its handler running step().retry().timeout() that returns <json>
 *
 * Prints `listening <port>` on stdout once it accepts connections, and exits on SIGTERM.
 */
import { buildApp } from '@weft/gateway/dist/app.js';
import { loadConfig } from '@weft/gateway/dist/config.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { step } from '@weft/core';
import Fastify, { type FastifyInstance } from 'fastify';

const [mode, payload] = process.argv.slice(2);
let app: FastifyInstance;
if (mode === 'gateway') {
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    GATEWAY_PROVIDERS: 'simulated',
    GATEWAY_API_KEYS: `bench:${process.env.BENCH_KEY ?? 'bench-key-0123456789'}`,
    GATEWAY_API_KEYS_FILE: '',
    RATE_LIMIT_RPS: '1000000',
    RATE_LIMIT_BURST: '1000000',
    DAILY_BUDGET_USD: '1000000',
  });
  app = await buildApp(config, { env: {} });
} else if (mode === 'bare' && payload !== undefined) {
  const body: unknown = JSON.parse(payload);
  app = Fastify({ bodyLimit: 64 * 1024 });
  app.post('/v1/answer', () => Promise.resolve(body));
} else if (mode === 'bare-als' && payload !== undefined) {
  const body: unknown = JSON.parse(payload);
  const als = new AsyncLocalStorage<object>();
  const store = {};
  const answer = (): Promise<unknown> => Promise.resolve(body);
  app = Fastify({ bodyLimit: 64 * 1024 });
  app.post('/v1/answer', () => als.run(store, answer));
} else if (mode === 'step' && payload !== undefined) {
  const body: unknown = JSON.parse(payload);
  const answer = step('answer', (_request: unknown) => body)
    .retry({ retries: 3 })
    .timeout(1_000);
  app = Fastify({ bodyLimit: 64 * 1024 });
  app.post('/v1/answer', (request) => answer.run(request.body));
} else {
  console.error('usage: bench-http-server.js gateway | bare <json> | bare-als <json> | step <json>');
  process.exit(2);
}
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
console.log(`listening ${typeof address === 'object' && address !== null ? address.port : 0}`);
process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('bench-http-server: close failed:', error);
      process.exit(1);
    },
  );
});
