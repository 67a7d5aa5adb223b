import { baggageEntryMetadataFromString, propagation, type Baggage, type BaggageEntry } from '@opentelemetry/api';
import { trimOws } from './trace-context.js';

/** The W3C limit on baggage list members a platform must propagate; more are refused. */
export const MAX_BAGGAGE_MEMBERS = 64;
/** The W3C limit on a baggage header's size in bytes; a larger header is refused. */
export const MAX_BAGGAGE_BYTES = 8192;

// RFC 7230 token, and the W3C baggage-octet set (no space, `"`, `,`, `;` or `\`).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAGGAGE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/**
 * Parses a W3C `baggage` header strictly (W3C Baggage): `key=value` members separated by `,`, each
 * with optional `;`-separated properties; keys are tokens, values are percent-encoded UTF-8. Returns
 * undefined when the header is absent, empty or malformed, or exceeds 64 members or 8192 bytes:
 * a header that is wrong anywhere is dropped whole rather than half-trusted.
 *
 * @example
 * ```ts
 * parseBaggage('tenant=acme,user=ada%20lovelace;pii')?.getEntry('user')?.value; // 'ada lovelace'
 * ```
 */
export function parseBaggage(value: string | undefined): Baggage | undefined {
  if (value === undefined || value.length > MAX_BAGGAGE_BYTES || Buffer.byteLength(value) > MAX_BAGGAGE_BYTES) return undefined;
  if (trimOws(value) === '') return undefined;
  const entries: Record<string, BaggageEntry> = {};
  let count = 0;
  for (const rawMember of value.split(',')) {
    if (++count > MAX_BAGGAGE_MEMBERS) return undefined;
    const parts = rawMember.split(';');
    const pair = parts[0]!;
    const eq = pair.indexOf('=');
    if (eq < 0) return undefined;
    const key = trimOws(pair.slice(0, eq));
    const encoded = trimOws(pair.slice(eq + 1));
    if (!TOKEN.test(key) || !BAGGAGE_VALUE.test(encoded)) return undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(encoded);
    } catch {
      return undefined;
    }
    let metadata: string | undefined;
    if (parts.length > 1) {
      const properties: string[] = [];
      for (let i = 1; i < parts.length; i++) {
        const property = normaliseProperty(parts[i]!);
        if (property === undefined) return undefined;
        properties.push(property);
      }
      metadata = properties.join(';');
    }
    entries[key] = metadata === undefined ? { value: decoded } : { value: decoded, metadata: baggageEntryMetadataFromString(metadata) };
  }
  return propagation.createBaggage(entries);
}

/**
 * Formats baggage as a W3C `baggage` header value, percent-encoding values. Entries whose key is not
 * a token are skipped, and so are entries that would take the header past 64 members or 8192 bytes
 * (never a partial member). Returns undefined when nothing is left.
 *
 * @example
 * ```ts
 * formatBaggage(propagation.createBaggage({ tenant: { value: 'acme' } })); // 'tenant=acme'
 * ```
 */
export function formatBaggage(baggage: Baggage): string | undefined {
  let header = '';
  let bytes = 0;
  let count = 0;
  for (const [key, entry] of baggage.getAllEntries()) {
    if (count >= MAX_BAGGAGE_MEMBERS) break;
    if (!TOKEN.test(key) || typeof entry.value !== 'string') continue;
    let member = `${key}=${encodeURIComponent(entry.value)}`;
    const metadata = entry.metadata?.toString();
    if (metadata !== undefined && metadata !== '') {
      const properties = metadata.split(';').map(normaliseProperty);
      if (properties.every((p) => p !== undefined)) member += `;${properties.join(';')}`;
    }
    const size = Buffer.byteLength(member) + (count > 0 ? 1 : 0);
    if (bytes + size > MAX_BAGGAGE_BYTES) continue;
    header += count > 0 ? `,${member}` : member;
    bytes += size;
    count++;
  }
  return count > 0 ? header : undefined;
}

/** A property is `key` or `key=value`; returns it without optional whitespace, or undefined when malformed. */
function normaliseProperty(raw: string): string | undefined {
  const eq = raw.indexOf('=');
  if (eq < 0) {
    const key = trimOws(raw);
    return TOKEN.test(key) ? key : undefined;
  }
  const key = trimOws(raw.slice(0, eq));
  const value = trimOws(raw.slice(eq + 1));
  return TOKEN.test(key) && BAGGAGE_VALUE.test(value) ? `${key}=${value}` : undefined;
}
