import type { FastifyInstance } from 'fastify';

/** What {@link gracefulShutdown} does once a signal arrives. */
export interface ShutdownOptions {
  /** How long in-flight requests may take to finish before their connections are closed. */
  readonly timeoutMs: number;
  /** Runs after the server closed (flush traces, ...). */
  readonly after?: () => Promise<void>;
  /** Writes a progress line. */
  readonly log: (message: string) => void;
}

/**
 * On SIGTERM or SIGINT: stops accepting connections, lets in-flight requests finish within
 * `timeoutMs` (then closes their connections), runs the app's `onClose` hooks (which close Redis
 * and the simulated providers), and exits 0, or 1 when requests had to be cut off or closing failed.
 *
 * @example
 * ```ts
 * gracefulShutdown(app, { timeoutMs: 10_000, log: console.log });
 * ```
 */
export function gracefulShutdown(app: FastifyInstance, options: ShutdownOptions): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    options.log(`${signal} received: draining in-flight requests (up to ${options.timeoutMs} ms)`);
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      options.log('drain timeout: closing the remaining connections');
      app.server.closeAllConnections();
    }, options.timeoutMs);
    timer.unref();
    // Keep-alive connections that finish their request during the drain would hold close() open
    // until the client hangs up: close each one as soon as it goes idle.
    const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
    sweeper.unref();
    app
      .close()
      .finally(() => clearInterval(sweeper))
      .then(() => options.after?.())
      .then(
        () => {
          clearTimeout(timer);
          options.log('shut down cleanly');
          process.exit(forced ? 1 : 0);
        },
        (error: unknown) => {
          clearTimeout(timer);
          options.log(`shutdown failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
