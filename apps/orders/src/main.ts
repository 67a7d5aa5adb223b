/**
 * Starts the orders service: validates the configuration (a bad variable stops the process with a
 * message naming it), recovers interrupted sagas, listens, prints the URL and a curl command, and
 * shuts down gracefully on SIGTERM.
 */
import { runService } from '@weft/service-kit';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

await runService({
  name: 'orders',
  loadConfig,
  buildApp: async (config) => {
    const app = await buildApp(config);
    if (config.servicesUrl === undefined && process.env.SIM_LATENCY_MS) app.orders.services?.setLatency(Number(process.env.SIM_LATENCY_MS) || 0);
    return app;
  },
  banner: (app, config, url) => [
    '',
    `Weft orders listening on ${url}`,
    app.orders.services ? `  demo mode: simulated inventory, payments and shipping at ${app.orders.services.url}` : `  services: ${config.servicesUrl}`,
    `  role: ${config.role}; orders run ${app.orders.queue ? 'as BullMQ jobs' : 'in process'}; saga log: ${app.orders.redis ? 'Redis' : 'in memory'}; recovered at start-up: ${app.orders.recovered.length}`,
    '',
    'Try it (card 4000000000000002 is declined, postcode 00000 cannot be shipped to):',
    `  curl -s ${url}/v1/orders -H 'content-type: application/json' -d '{"sku":"tea","quantity":2,"card":"4242424242424242","postcode":"10115"}'`,
    '',
  ],
});
