import { describe, expect, it } from 'vitest';
import { DEMO_KEYS, hashKey, loadApiKeys, presentedKey } from './auth.js';

describe('API keys', () => {
  it('accepts the listed keys, knowing them only by hash, with per-key budgets', () => {
    const { keys } = loadApiKeys({ apiKeys: 'acme:sk-acme-0123456789, beta:sk-beta-0123456789:0.5', apiKeysFile: undefined }, 5, false);
    expect(keys.find('sk-acme-0123456789')).toEqual({ name: 'acme', id: hashKey('sk-acme-0123456789').slice(0, 16), dailyBudgetUsd: 5 });
    expect(keys.find('sk-beta-0123456789')?.dailyBudgetUsd).toBe(0.5);
    expect(keys.find('sk-nope-0123456789')).toBeUndefined();
  });

  it('uses the demo keys only in demo mode with no keys configured', () => {
    const { keys, demo } = loadApiKeys({ apiKeys: undefined, apiKeysFile: undefined }, 5, true);
    expect(demo).toBe(true);
    expect(keys.find(DEMO_KEYS[0].key)?.name).toBe('demo');
    expect(() => loadApiKeys({ apiKeys: undefined, apiKeysFile: undefined }, 5, false)).toThrow(/`GATEWAY_API_KEYS`/);
  });

  it('names the variable for a malformed entry or an unreadable file, without echoing the key', () => {
    expect(() => loadApiKeys({ apiKeys: 'acme:short', apiKeysFile: undefined }, 5, false)).toThrow(/`GATEWAY_API_KEYS`/);
    expect(() => loadApiKeys({ apiKeys: 'acme:short', apiKeysFile: undefined }, 5, false)).not.toThrow(/short/);
    expect(() => loadApiKeys({ apiKeys: undefined, apiKeysFile: '/nonexistent/keys.txt' }, 5, false)).toThrow(/`GATEWAY_API_KEYS_FILE`/);
  });

  it('reads a bearer token or an x-api-key header', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': 'xyz' })).toBe('xyz');
    expect(presentedKey({ authorization: 'Basic abc' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});
