import { optionsFromEnv, startSimulatedProviders, type SimulatedProviders } from '@weft/simulated-providers';
import { ConfigError, type ProviderConfig } from '../config.js';

/** The demo providers: a cheap, a middling and a dear model, priced by the built-in price table. */
const SIMULATED_PROVIDERS = [
  { name: 'alpha', model: 'gpt-4o-mini', quality: 0.6 },
  { name: 'beta', model: 'gpt-4.1-mini', quality: 0.75 },
  { name: 'gamma', model: 'gpt-4o', quality: 0.9 },
] as const;

/**
 * Starts `apps/simulated-providers` on loopback for the demo mode, with the behaviour its `SIM_*`
 * variables set (`SIM_BETA_LATENCY_MS=800`, `SIM_ALPHA_DOWN=1`, ...), and describes the providers.
 *
 * @example
 * ```ts
 * const { sim, providers } = await startDemoProviders(0, process.env);
 * // ... later
 * await sim.close();
 * ```
 */
export async function startDemoProviders(port: number, env: NodeJS.ProcessEnv, host = '127.0.0.1'): Promise<{ sim: SimulatedProviders; providers: ProviderConfig[] }> {
  let options;
  try {
    // Always the three demo providers; PORT and HOST are the gateway's, not theirs.
    const { port: _port, host: _host, ...rest } = optionsFromEnv({ ...env, SIM_PROVIDERS: SIMULATED_PROVIDERS.map((p) => p.name).join(','), PORT: undefined, HOST: undefined });
    options = rest;
  } catch (error) {
    const variable = /`([A-Z0-9_]+)`/.exec((error as Error).message)?.[1] ?? 'SIM_*';
    throw new ConfigError(variable, (error as Error).message);
  }
  const sim = await startSimulatedProviders({ ...options, port, host });
  const providers = SIMULATED_PROVIDERS.map((p) => ({ name: p.name, baseUrl: sim.baseUrlFor(p.name).replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:'), apiKey: undefined, model: p.model, quality: p.quality, priceInput: undefined, priceOutput: undefined, propagateContext: true }));
  return { sim, providers };
}
