/**
 * Money is added as integers: nano-units, 1e-9 of the currency unit (1 USD = 1,000,000,000).
 * Binary floating point cannot hold 0.1 exactly, so summing amounts as numbers drifts (0.1 + 0.2 >
 * 0.3, and a limit of 0.3 refuses a third 0.1 call); integers up to 2^53 add exactly. Amounts in
 * the public API stay plain numbers in currency units: each is converted once, rounded to the
 * nearest nano-unit, and every sum is of integers. Exact up to {@link MAX_AMOUNT}.
 */
const NANOS_PER_UNIT = 1_000_000_000;

/** The largest amount (in currency units) that is still exact in nano-units: 2^53 / 1e9, about 9 million. */
export const MAX_AMOUNT = 9_000_000;

/** An amount in currency units, as integer nano-units (rounded to the nearest). */
export function toNanos(amount: number): number {
  return Math.round(amount * NANOS_PER_UNIT);
}

/** Integer nano-units as an amount in currency units: the double nearest the exact decimal (53200 nanos is 0.0000532). */
export function fromNanos(nanos: number): number {
  return nanos / NANOS_PER_UNIT;
}
