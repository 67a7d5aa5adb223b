import { fail } from '@weft/core/options';

/*
 * Redis-only option checks. The shared validators (number, knownOptions, primitiveName, ...) come
 * from `@weft/core/options`.
 */

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A key prefix: no braces (they would break Redis Cluster hash tags) and no spaces. */
export function prefix(option: string, value: unknown, defaults: string): string {
  if (value === undefined) return defaults;
  if (typeof value !== 'string' || !PREFIX.test(value)) fail(option, 'a prefix of 1-64 characters from [A-Za-z0-9_.:-]', value);
  return value;
}
