/**
 * `@weft/core/options`: the option validators Weft's packages share, so every package rejects bad
 * options the same way. Each runs once, when a primitive or store is built, and throws a TypeError
 * that names the option: ``Expected `retries` to be an integer >= 0, got -1``.
 *
 * @example
 * ```ts
 * import { number, optionsObject } from '@weft/core/options';
 *
 * const o = optionsObject('options', options);
 * const ttlMs = number('ttlMs', o.ttlMs, 60_000, { min: 1, integer: true });
 * ```
 *
 * @packageDocumentation
 */
export { boolean, fail, knownOptions, number, oneOf, optionalBoolean, optionalFunction, optionalNumber, optionsObject, primitiveName } from './internal/validate-options.js';
export type { NumberRule } from './internal/validate-options.js';
export { RUN_OPTIONS } from './primitive.js';
