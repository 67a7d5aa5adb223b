import { describe, it, expect } from 'vitest';
import { baggageEntryMetadataFromString, propagation } from '@opentelemetry/api';
import { formatBaggage, parseBaggage, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS } from './baggage.js';

describe('parseBaggage', () => {
  it('parses members, percent-decoding their values', () => {
    const baggage = parseBaggage('tenant=acme, user = ada%20lovelace ,emoji=%F0%9F%A7%B5')!;
    expect(baggage.getEntry('tenant')?.value).toBe('acme');
    expect(baggage.getEntry('user')?.value).toBe('ada lovelace');
    expect(baggage.getEntry('emoji')?.value).toBe('🧵');
  });

  it('keeps properties as entry metadata', () => {
    const baggage = parseBaggage('user=ada;pii; ttl = 30')!;
    expect(baggage.getEntry('user')?.metadata?.toString()).toBe('pii;ttl=30');
  });

  it('allows empty values', () => {
    expect(parseBaggage('flag=')?.getEntry('flag')?.value).toBe('');
  });

  it.each([
    ['absent', undefined],
    ['blank', '  '],
    ['a member without "="', 'tenant'],
    ['a key that is not a token', 'ten ant=acme'],
    ['a raw space inside a value', 'user=ada lovelace'],
    ['a double quote in a value', 'user="ada"'],
    ['a backslash in a value', 'path=a\\b'],
    ['broken percent-encoding', 'user=%E0%A4%A'],
    ['a malformed property', 'user=ada;=x'],
    ['an empty member', 'a=1,,b=2'],
  ])('drops the whole header when it is %s', (_label, header) => {
    expect(parseBaggage(header)).toBeUndefined();
  });

  it('refuses more than 64 members', () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(',');
    expect(parseBaggage(members(MAX_BAGGAGE_MEMBERS))?.getAllEntries()).toHaveLength(MAX_BAGGAGE_MEMBERS);
    expect(parseBaggage(members(MAX_BAGGAGE_MEMBERS + 1))).toBeUndefined();
  });

  it('refuses a header over 8192 bytes', () => {
    expect(parseBaggage(`big=${'x'.repeat(MAX_BAGGAGE_BYTES)}`)).toBeUndefined();
  });
});

describe('formatBaggage', () => {
  it('percent-encodes values and round-trips through parseBaggage', () => {
    const baggage = propagation.createBaggage({
      tenant: { value: 'acme' },
      note: { value: 'a, b; c="d" 100%' },
      user: { value: 'ada', metadata: baggageEntryMetadataFromString('pii;ttl=30') },
    });
    const header = formatBaggage(baggage)!;
    expect(header).not.toMatch(/[ "\\]/);
    const back = parseBaggage(header)!;
    expect(back.getEntry('note')?.value).toBe('a, b; c="d" 100%');
    expect(back.getEntry('user')?.metadata?.toString()).toBe('pii;ttl=30');
    expect(back.getEntry('tenant')?.value).toBe('acme');
  });

  it('skips entries whose key is not a token', () => {
    const baggage = propagation.createBaggage({ 'bad key': { value: '1' }, good: { value: '2' } });
    expect(formatBaggage(baggage)).toBe('good=2');
  });

  it('drops whole members that would exceed the size limit, never a partial one', () => {
    const baggage = propagation.createBaggage({ a: { value: 'x'.repeat(5000) }, b: { value: 'y'.repeat(5000) }, c: { value: 'z' } });
    const header = formatBaggage(baggage)!;
    expect(Buffer.byteLength(header)).toBeLessThanOrEqual(MAX_BAGGAGE_BYTES);
    expect(parseBaggage(header)?.getAllEntries().map(([k]) => k)).toEqual(['a', 'c']);
  });

  it('returns undefined for empty baggage', () => {
    expect(formatBaggage(propagation.createBaggage())).toBeUndefined();
  });
});
