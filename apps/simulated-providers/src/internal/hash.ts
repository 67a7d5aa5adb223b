/** FNV-1a, 32 bits: a tiny, stable string hash (answers and PRNG seeds must not change between releases). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The hash as 8 lowercase hex digits. */
export function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
