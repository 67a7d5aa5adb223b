/**
 * Runs the simulated inventory, payments and shipping services on their own, so that they (and
 * their journal) outlive the orders processes a chaos run kills. `PORT` picks the port (0: any);
 * `HOST` the address (default 127.0.0.1; 0.0.0.0 in a container); the URL is printed as
 * `services listening on <url>`.
 */
import { startSimulatedServices } from './simulated-services.js';

const services = await startSimulatedServices(Number(process.env.PORT ?? 0), 0, process.env.HOST ?? '127.0.0.1');
console.error(`services listening on ${services.url}`);
const stop = (): void => void services.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
