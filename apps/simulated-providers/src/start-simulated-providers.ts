import type { AddressInfo } from 'node:net';
import { buildApp } from './internal/build-app.js';
import { formatZodError } from './internal/format-zod-error.js';
import { ProviderState } from './internal/provider-state.js';
import { parseBehaviourPatch, startOptionsSchema, type ProviderBehaviour, type ProviderOptions, type ProviderStats } from './provider-config.js';

/** Options of {@link startSimulatedProviders}. */
export interface SimulatedProvidersOptions {
  /**
   * Port to listen on; 0 picks a free one (read it back from `url`).
   * @default 0
   */
  readonly port?: number;
  /**
   * Interface to listen on. Keep the loopback default: the admin endpoint has no auth.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * The providers to serve, keyed by name (1-32 lowercase letters, digits or inner dashes).
   * @default { alpha: {}, beta: {}, gamma: {} }
   */
  readonly providers?: Readonly<Record<string, ProviderOptions>>;
  /**
   * Seed of the PRNG streams behind `errorRate` and `jitterMs`; the same seed replays the same faults.
   * @default 1
   */
  readonly seed?: number;
  /**
   * Bearer key required by every provider that sets no `apiKey` of its own.
   * @default undefined (no auth)
   */
  readonly apiKey?: string;
  /**
   * Log requests with Fastify's pino logger (JSON on stdout).
   * @default false
   */
  readonly logger?: boolean;
}

/** Defaults of {@link SimulatedProvidersOptions}. */
const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  providers: { alpha: {}, beta: {}, gamma: {} },
  seed: 1,
  logger: false,
} as const satisfies Required<Omit<SimulatedProvidersOptions, 'apiKey'>>;

/** A running set of simulated providers. */
export interface SimulatedProviders {
  /** Origin the server listens on, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Names of the providers served, in the order they were given. */
  readonly providers: readonly string[];
  /** OpenAI base URL of one provider, e.g. `http://127.0.0.1:41234/p/alpha/v1`; append `/chat/completions`. */
  baseUrlFor(name: string): string;
  /** Current behaviour of one provider. */
  behaviourOf(name: string): Readonly<ProviderBehaviour>;
  /** What one provider has served so far: requests received, in flight, disconnected, and answers by status. */
  statsOf(name: string): ProviderStats;
  /** Changes part of one provider's behaviour at once (what `PUT /admin/providers/:name` does); returns the new behaviour. */
  configure(name: string, patch: Partial<ProviderBehaviour>): Readonly<ProviderBehaviour>;
  /** Stops listening, ends pending latency waits with 503, and resolves once every socket and timer is gone. Idempotent. */
  close(): Promise<void>;
}

/**
 * Waits until libuv has really closed the handles `close()` just released. Node emits a server's
 * 'close' before the listening handle's close callback runs (it runs in the close phase at the end
 * of the loop iteration), so two check-phase hops are needed for `process.getActiveResourcesInfo()`
 * to no longer list it.
 */
async function handlesReleased(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

function origin(host: string, port: number): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/**
 * Starts deterministic OpenAI-compatible providers in this process, each under `/p/<name>/v1`
 * on one port, with latency, error rate, outages and auth settable per provider.
 *
 * Invalid options throw a TypeError naming the option before anything listens.
 *
 * @example
 * ```ts
 * const sim = await startSimulatedProviders({ providers: { alpha: {}, beta: { latencyMs: 200, errorRate: 0.1 } }, seed: 42 });
 * const res = await fetch(`${sim.baseUrlFor('alpha')}/chat/completions`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ model: 'alpha-chat', messages: [{ role: 'user', content: 'Hi?' }] }),
 * });
 * sim.configure('beta', { down: true }); // script an outage
 * await sim.close();
 * ```
 */
export async function startSimulatedProviders(options: SimulatedProvidersOptions = {}): Promise<SimulatedProviders> {
  const parsed = startOptionsSchema.safeParse(options, { reportInput: true });
  if (!parsed.success) throw new TypeError(formatZodError(parsed.error, 'options'));
  const { port = DEFAULTS.port, host = DEFAULTS.host, seed = DEFAULTS.seed, logger = DEFAULTS.logger, apiKey, providers = DEFAULTS.providers } = parsed.data;

  const states = new Map<string, ProviderState>();
  for (const [name, { apiKey: ownKey, models, ...behaviour }] of Object.entries<ProviderOptions>(providers)) {
    states.set(name, new ProviderState(name, behaviour, seed, ownKey ?? apiKey, models));
  }
  const stateOf = (name: string): ProviderState => {
    const state = states.get(name);
    if (state === undefined) throw new TypeError(`Expected \`name\` to be one of ${[...states.keys()].map((n) => JSON.stringify(n)).join(', ')}, got ${JSON.stringify(name)}`);
    return state;
  };

  const app = buildApp(states, logger);
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close();
    throw error;
  }
  const url = origin(host, (app.server.address() as AddressInfo).port);
  let closed: Promise<void> | undefined;

  return {
    url,
    providers: Object.freeze([...states.keys()]),
    baseUrlFor: (name) => `${url}/p/${stateOf(name).name}/v1`,
    behaviourOf: (name) => stateOf(name).behaviour,
    statsOf: (name) => stateOf(name).stats,
    configure: (name, patch) => {
      const state = stateOf(name);
      return state.configure(parseBehaviourPatch(patch));
    },
    close: () =>
      (closed ??= (async () => {
        await app.close();
        await handlesReleased();
      })()),
  };
}
