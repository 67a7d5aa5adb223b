/**
 * Starts the orders service: validates the configuration (a bad variable stops the process with a
 * message naming it), recovers interrupted sagas, listens, prints the URL and a curl command, and
 * shuts down gracefully on SIGTERM.
 */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { gracefulShutdown } from './shutdown.js';
import { startTracing } from './telemetry.js';

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  console.error(`orders: invalid configuration: ${(error as Error).message}`);
  process.exit(1);
}

const stopTracing = startTracing(config.otlpEndpoint, config.serviceName);
let app;
try {
  app = await buildApp(config);
  if (config.servicesUrl === undefined && process.env.SIM_LATENCY_MS) app.orders.services?.setLatency(Number(process.env.SIM_LATENCY_MS) || 0);
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  const prefix = error instanceof ConfigError ? 'invalid configuration' : 'failed to start';
  console.error(`orders: ${prefix}: ${(error as Error).message}`);
  await app?.close().catch(() => undefined);
  await stopTracing?.();
  process.exit(1);
}

const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : config.port;
const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
const url = `http://${shownHost}:${port}`;
console.error(
  [
    '',
    `Weft orders listening on ${url}`,
    app.orders.services ? `  demo mode: simulated inventory, payments and shipping at ${app.orders.services.url}` : `  services: ${config.servicesUrl}`,
    `  saga log: ${app.orders.redis ? 'Redis' : 'in memory'}; recovered at start-up: ${app.orders.recovered.length}`,
    '',
    'Try it (card 4000000000000002 is declined, postcode 00000 cannot be shipped to):',
    `  curl -s ${url}/v1/orders -H 'content-type: application/json' -d '{"sku":"tea","quantity":2,"card":"4242424242424242","postcode":"10115"}'`,
    '',
  ].join('\n'),
);

gracefulShutdown(app, {
  timeoutMs: config.shutdownTimeoutMs,
  log: (message) => app.log.info(message),
  after: async () => {
    await stopTracing?.();
  },
});
