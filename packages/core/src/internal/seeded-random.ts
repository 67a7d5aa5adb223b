/**
 * A fast, seeded pseudo-random source: sfc32 (Small Fast Counting, from PractRand), its 128-bit
 * state expanded from the seed with splitmix32. Returns floats in [0, 1). Not for cryptography.
 * The same seed always gives the same sequence, so a chaos run can be replayed exactly.
 *
 * @param seed a safe integer; seeds differing only above bit 32 still give different sequences.
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random(); // the same number on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isSafeInteger(seed)) throw new TypeError(`Expected \`seed\` to be a safe integer, got ${String(seed)}`);
  // Fold the high bits in, so 1 and 2 ** 32 + 1 differ.
  let s = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x9e3779b1);
  const splitmix32 = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) | 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs, as the sfc32 reference does, to mix the seed through the state.
  for (let i = 0; i < 12; i++) next();
  return next;
}
