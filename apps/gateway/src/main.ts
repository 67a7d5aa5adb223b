/**
 * Starts the gateway: validates the configuration (a bad variable stops the process with a message
 * naming it), starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set, listens, prints the URL and a
 * ready-to-paste curl command, and shuts down gracefully on SIGTERM.
 */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { DEMO_KEYS } from './auth.js';
import { gracefulShutdown } from './shutdown.js';
import { startTracing } from './telemetry.js';

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  console.error(`gateway: invalid configuration: ${(error as Error).message}`);
  process.exit(1);
}

const stopTracing = startTracing(config.otlpEndpoint, config.serviceName);
let app;
try {
  app = await buildApp(config);
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  const prefix = error instanceof ConfigError ? 'invalid configuration' : 'failed to start';
  console.error(`gateway: ${prefix}: ${(error as Error).message}`);
  await app?.close().catch(() => undefined);
  await stopTracing?.();
  process.exit(1);
}

const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : config.port;
const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
const url = `http://${shownHost}:${port}`;
const state = app.gateway;
const key = state.demoKeys ? DEMO_KEYS[0].key : '<your API key>';
const lines = [
  '',
  `Weft gateway listening on ${url}`,
  state.simulated ? `  demo mode: simulated providers ${state.providers.map((p) => p.name).join(', ')} at ${state.simulated.url} (admin: ${state.simulated.url}/admin/providers)` : `  providers: ${state.providers.map((p) => p.name).join(', ')}`,
  `  stores: ${state.stores.redis ? 'Redis' : 'in memory'}; tracing: ${config.otlpEndpoint ? `OTLP to ${config.otlpEndpoint}` : 'off'}`,
  `  health: ${url}/health/ready  metrics: ${url}/metrics`,
  '',
  'Try it:',
  `  curl -s ${url}/v1/answer -H 'authorization: Bearer ${key}' -H 'content-type: application/json' -d '{"question":"Why is the sky blue?","tier":"standard"}'`,
  '',
];
// Stderr, so the JSON logs on stdout stay machine-readable.
console.error(lines.join('\n'));

gracefulShutdown(app, {
  timeoutMs: config.shutdownTimeoutMs,
  log: (message) => app.log.info(message),
  after: async () => {
    await stopTracing?.();
  },
});
