import { createHash } from 'node:crypto';

const SAFE = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * A key segment for a name that may come from outside the code (a per-API-key budget name, a
 * saga ID): safe names are kept readable; anything else (braces, spaces, long or user-supplied
 * text) becomes `h.` and its SHA-256, so it can neither break a hash tag nor leak raw text.
 */
export function keyPart(value: string): string {
  return SAFE.test(value) ? value : `h.${createHash('sha256').update(value).digest('hex')}`;
}

/** `{tag}`: a Redis Cluster hash tag, so every key of one budget, saga or queue lands in one slot. */
export function tag(kind: string, value: string): string {
  return `{${kind}:${keyPart(value)}}`;
}
