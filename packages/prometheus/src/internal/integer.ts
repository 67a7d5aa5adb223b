import { fail } from '@weft/core/options';

/**
 * An integer option from `min` to `max`, or `defaults` when undefined; the message states both
 * bounds: ``Expected `maxLabelValues` to be an integer >= 1 and <= 100000, got 0``. (The other
 * validators come from `@weft/core/options`.)
 */
export function integer(option: string, value: unknown, defaults: number, min: number, max: number): number {
  if (value === undefined) return defaults;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, `an integer >= ${min} and <= ${max}`, value);
  return value;
}
