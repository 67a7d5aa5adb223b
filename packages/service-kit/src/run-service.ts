import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config-error.js';
import type { ServiceConfig } from './env.js';
import { listenUrl } from './listen-url.js';
import { gracefulShutdown } from './shutdown.js';
import { startTracing } from './telemetry.js';

/** The parts of a service {@link runService} starts. */
export interface ServiceMain<C extends ServiceConfig> {
  /** Prefix of start-up error lines: `gateway: invalid configuration: ...`. */
  readonly name: string;
  /** Reads and validates the configuration; throws a {@link ConfigError} for a bad variable. */
  readonly loadConfig: (env: NodeJS.ProcessEnv) => C;
  /** Builds the app without listening; closing the app must close everything it started. */
  readonly buildApp: (config: C) => Promise<FastifyInstance>;
  /** The lines printed to stderr once the app listens on `url`. */
  readonly banner: (app: FastifyInstance, config: C, url: string) => readonly string[];
}

/**
 * A service's `main`: validates the configuration (a bad variable stops the process with a message
 * naming it), starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, builds the app and listens,
 * prints the banner, and shuts down gracefully on SIGTERM or SIGINT (flushing traces last). Any
 * start-up failure closes what was started and exits 1. Resolves with the listening app.
 *
 * @example
 * ```ts
 * await runService({ name: 'orders', loadConfig, buildApp, banner: (_app, _config, url) => [`listening on ${url}`] });
 * ```
 */
export async function runService<C extends ServiceConfig>(main: ServiceMain<C>): Promise<FastifyInstance> {
  let config: C;
  try {
    config = main.loadConfig(process.env);
  } catch (error) {
    console.error(`${main.name}: invalid configuration: ${(error as Error).message}`);
    process.exit(1);
  }

  const stopTracing = startTracing(config.otlpEndpoint, config.serviceName);
  let app: FastifyInstance | undefined;
  try {
    app = await main.buildApp(config);
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const prefix = error instanceof ConfigError ? 'invalid configuration' : 'failed to start';
    console.error(`${main.name}: ${prefix}: ${describeStartFailure(error as Error & { code?: string; port?: number }, config)}`);
    await app?.close().catch(() => undefined);
    await stopTracing?.();
    process.exit(1);
  }

  const url = listenUrl(app.server.address(), config.host, config.port);
  // Stderr, so the JSON logs on stdout stay machine-readable.
  console.error(main.banner(app, config, url).join('\n'));

  const running = app;
  gracefulShutdown(running, {
    timeoutMs: config.shutdownTimeoutMs,
    log: (message) => running.log.info(message),
    after: async () => {
      await stopTracing?.();
    },
  });
  return running;
}

/** A start-up failure, with the variable to change when the cause is a port (in use, not allowed). */
function describeStartFailure(error: Error & { code?: string; port?: number }, config: ServiceConfig): string {
  if (error.code === 'EADDRINUSE') {
    const sim = error.port !== undefined && error.port === config.simPort && config.simPort !== config.port;
    return sim
      ? `port ${config.simPort} (SIM_PORT, the simulated dependencies) is already in use; set SIM_PORT to a free port, or 0 for any`
      : `port ${config.port} on ${config.host} is already in use; set PORT to a free port (or 0 for any)`;
  }
  if (error.code === 'EACCES') return `not allowed to listen on ${config.host}:${config.port}; set PORT above 1023, or HOST`;
  if (error.code === 'EADDRNOTAVAIL') return `${config.host} is not an address of this machine; set HOST`;
  return error.message;
}
