/**
 * Starts the gateway: validates the configuration (a bad variable stops the process with a message
 * naming it), starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set, listens, prints the URL and a
 * ready-to-paste curl command, and shuts down gracefully on SIGTERM.
 */
import { runService } from '@weft/service-kit';
import { buildApp } from './app.js';
import { DEMO_KEYS } from './auth.js';
import { loadConfig } from './config.js';

await runService({
  name: 'gateway',
  loadConfig,
  buildApp: (config) => buildApp(config),
  banner: (app, config, url) => {
    const state = app.gateway;
    const key = state.demoKeys ? DEMO_KEYS[0].key : '<your API key>';
    return [
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
  },
});
