import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';

/** One API key the gateway accepts. The key itself is kept only as a hash. */
export interface ApiKey {
  /** A human name for logs and dashboards, such as `acme-prod`. */
  readonly name: string;
  /** The first 16 hex characters of the key's SHA-256: the per-key budget and rate-limit key. */
  readonly id: string;
  /** Daily budget in USD for this key. */
  readonly dailyBudgetUsd: number;
}

/** The keys of the demo mode: the first is printed in the ready-to-paste curl command. */
export const DEMO_KEYS = [
  { name: 'demo', key: 'weft-demo-key-0001' },
  { name: 'demo-batch', key: 'weft-demo-key-0002' },
  { name: 'demo-tight', key: 'weft-demo-key-tight', dailyBudgetUsd: 0.002 },
] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const KEY = /^[A-Za-z0-9._~+/=-]{12,256}$/;

// Every `/v1/*` request hashes its key: the one-shot `crypto.hash` (Node >= 20.12) costs a third of
// `createHash().update().digest()`, which builds a Hash object per call. The raw key is still never
// kept, so there is no per-key cache here.
const sha256Hex: (key: string) => string =
  typeof crypto.hash === 'function' ? (key) => crypto.hash('sha256', key, 'hex') : (key) => crypto.createHash('sha256').update(key).digest('hex');

/** SHA-256 of a key, hex. */
export function hashKey(key: string): string {
  return sha256Hex(key);
}

/**
 * The keys the gateway accepts, looked up by hash so the raw keys are not kept in memory longer
 * than parsing takes, and a lookup does not compare secrets character by character.
 */
export class ApiKeys {
  private readonly byHash = new Map<string, ApiKey>();

  /** @param entries `name:key[:dailyBudgetUsd]` strings; `source` names the variable for errors. */
  constructor(entries: ReadonlyArray<{ readonly text: string; readonly source: string }>, defaultBudgetUsd: number) {
    for (const { text, source } of entries) {
      const parts = text.split(':');
      const [name, key, budget] = parts;
      if (parts.length < 2 || parts.length > 3 || name === undefined || key === undefined || !NAME.test(name) || !KEY.test(key)) {
        throw new ConfigError(source, `Expected \`${source}\` to hold entries "name:key[:dailyBudgetUsd]" (name: 1-64 letters, digits, _ . -; key: 12-256 URL-safe characters), got an entry that is not`);
      }
      let dailyBudgetUsd = defaultBudgetUsd;
      if (budget !== undefined) {
        dailyBudgetUsd = Number(budget);
        if (!Number.isFinite(dailyBudgetUsd) || dailyBudgetUsd <= 0) throw new ConfigError(source, `Expected \`${source}\` to give a daily budget > 0 for key "${name}", got ${JSON.stringify(budget)}`);
      }
      const hash = hashKey(key);
      if (this.byHash.has(hash)) throw new ConfigError(source, `Expected \`${source}\` to list each key once; key "${name}" repeats one`);
      this.byHash.set(hash, Object.freeze({ name, id: hash.slice(0, 16), dailyBudgetUsd }));
    }
  }

  /** How many keys are accepted. */
  get size(): number {
    return this.byHash.size;
  }

  /** Every accepted key's public record. */
  list(): ApiKey[] {
    return [...this.byHash.values()];
  }

  /** The record of a presented key, or undefined when it is not accepted. */
  find(presented: string): ApiKey | undefined {
    return this.byHash.get(hashKey(presented));
  }
}

/**
 * Builds the accepted keys from `GATEWAY_API_KEYS` (comma-separated) and `GATEWAY_API_KEYS_FILE`
 * (one per line, `#` comments). In demo mode with neither set, the {@link DEMO_KEYS} are used.
 *
 * @example
 * ```ts
 * const keys = loadApiKeys({ apiKeys: 'acme:sk-acme-0123456789', apiKeysFile: undefined }, 5, false);
 * keys.find('sk-acme-0123456789')?.name; // 'acme'
 * ```
 */
export function loadApiKeys(config: { readonly apiKeys: string | undefined; readonly apiKeysFile: string | undefined }, defaultBudgetUsd: number, demo: boolean): { keys: ApiKeys; demo: boolean } {
  const entries: Array<{ text: string; source: string }> = [];
  if (config.apiKeys !== undefined) {
    for (const text of config.apiKeys.split(',').map((s) => s.trim()).filter(Boolean)) entries.push({ text, source: 'GATEWAY_API_KEYS' });
  }
  if (config.apiKeysFile !== undefined) {
    let content: string;
    try {
      content = readFileSync(config.apiKeysFile, 'utf8');
    } catch (error) {
      throw new ConfigError('GATEWAY_API_KEYS_FILE', `Expected \`GATEWAY_API_KEYS_FILE\` to be a readable file, got ${JSON.stringify(config.apiKeysFile)} (${(error as Error).message})`);
    }
    for (const line of content.split(/\r?\n/)) {
      const text = line.replace(/#.*$/, '').trim();
      if (text !== '') entries.push({ text, source: 'GATEWAY_API_KEYS_FILE' });
    }
  }
  if (entries.length === 0) {
    if (!demo) throw new ConfigError('GATEWAY_API_KEYS', 'Expected `GATEWAY_API_KEYS` or `GATEWAY_API_KEYS_FILE` to list at least one API key when real providers are configured');
    const demoEntries = DEMO_KEYS.map((k) => ({ text: 'dailyBudgetUsd' in k ? `${k.name}:${k.key}:${k.dailyBudgetUsd}` : `${k.name}:${k.key}`, source: 'demo keys' }));
    return { keys: new ApiKeys(demoEntries, defaultBudgetUsd), demo: true };
  }
  return { keys: new ApiKeys(entries, defaultBudgetUsd), demo: false };
}

/**
 * The key a request presents: `Authorization: Bearer <key>` or `x-api-key: <key>`.
 *
 * @example
 * ```ts
 * presentedKey({ authorization: 'Bearer sk-123' }); // 'sk-123'
 * ```
 */
export function presentedKey(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match?.[1];
  }
  const key = headers['x-api-key'];
  return typeof key === 'string' && key !== '' ? key : undefined;
}
