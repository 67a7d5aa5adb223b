/**
 * CLI entry: starts the simulated providers from environment variables (see `optionsFromEnv`;
 * PORT defaults to 4010 here) and closes them on SIGTERM or SIGINT.
 */
import { optionsFromEnv } from './options-from-env.js';
import { startSimulatedProviders } from './start-simulated-providers.js';

/** Port the CLI listens on when PORT is not set. */
const CLI_PORT = 4010;
/** How long close() may take before the process exits anyway. */
const CLOSE_GRACE_MS = 10_000;

let sim;
try {
  const options = optionsFromEnv(process.env);
  sim = await startSimulatedProviders({ port: CLI_PORT, ...options });
} catch (error) {
  console.error(`simulated-providers: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

console.log(`simulated providers listening on ${sim.url}`);
for (const name of sim.providers) console.log(`  ${name}: ${sim.baseUrlFor(name)}`);
console.log(`  admin: ${sim.url}/admin/providers`);

const running = sim;
let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  console.log(`simulated-providers: ${signal} received, closing`);
  setTimeout(() => {
    console.error('simulated-providers: close took too long, exiting');
    process.exit(1);
  }, CLOSE_GRACE_MS).unref();
  running.close().then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      console.error('simulated-providers: close failed', error);
      process.exitCode = 1;
    },
  );
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
