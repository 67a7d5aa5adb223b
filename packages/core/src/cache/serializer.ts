/**
 * Turns cache entries into strings for a remote store and back. The default is
 * {@link jsonSerializer}; `superjson` or `devalue` fit too.
 *
 * @example
 * ```ts
 * import superjson from 'superjson';
 * const serializer: CacheSerializer = { serialize: (v) => superjson.stringify(v), deserialize: (t) => superjson.parse(t) };
 * ```
 */
export interface CacheSerializer {
  /** Encodes an entry; may throw for values it cannot encode (the value is then not cached). */
  serialize(value: unknown): string;
  /** Decodes what `serialize` produced. */
  deserialize(text: string): unknown;
}

const TAG = '$w';

function replacer(this: unknown, key: string, value: unknown): unknown {
  // `value` has been through toJSON already (a Date is a string by now); read the original.
  const original = (this as Record<string, unknown>)[key];
  switch (typeof original) {
    case 'undefined':
      return { [TAG]: 'U' };
    case 'bigint':
      return { [TAG]: 'B', v: original.toString() };
    case 'number':
      if (Object.is(original, -0)) return { [TAG]: 'N', v: '-0' };
      return Number.isFinite(original) ? original : { [TAG]: 'N', v: String(original) };
    case 'object':
      if (original === null) return null;
      if (original instanceof Date) return { [TAG]: 'D', v: Number.isNaN(original.getTime()) ? null : original.toISOString() };
      if (original instanceof Map) return { [TAG]: 'M', v: [...original] };
      if (original instanceof Set) return { [TAG]: 'S', v: [...original] };
      // A user object that happens to have our tag key is escaped, so it can never be mistaken for one.
      if (value === original && !Array.isArray(original) && Object.hasOwn(original, TAG)) return { [TAG]: 'O', v: Object.entries(original) };
      return value;
    default:
      return value;
  }
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const tag = (value as Record<string, unknown>)[TAG];
  if (typeof tag !== 'string') return value;
  const v = (value as { v?: unknown }).v;
  switch (tag) {
    case 'U':
      return undefined;
    case 'B':
      return BigInt(v as string);
    case 'N':
      return v === '-0' ? -0 : Number(v);
    case 'D':
      return new Date(v === null ? NaN : (v as string));
    case 'M':
      return new Map(v as Array<[unknown, unknown]>);
    case 'S':
      return new Set(v as unknown[]);
    case 'O':
      return Object.fromEntries(v as Array<[string, unknown]>);
    default:
      return value;
  }
}

/**
 * The default serializer for remote stores: JSON that also round-trips `undefined` (top level and
 * array items; an `undefined` property is dropped, as in JSON), `bigint`, `NaN`/`±Infinity`/`-0`, `Date`,
 * `Map` and `Set`. Class instances come back as plain objects; functions and symbols are dropped;
 * a cycle or a `toJSON` that throws makes `serialize` throw (the value is then not cached).
 *
 * @example
 * ```ts
 * const text = jsonSerializer.serialize({ at: new Date(0), n: 10n });
 * jsonSerializer.deserialize(text); // { at: Date(1970-01-01), n: 10n }
 * ```
 */
export const jsonSerializer: CacheSerializer = Object.freeze({
  serialize(value: unknown): string {
    return JSON.stringify(value, replacer);
  },
  deserialize(text: string): unknown {
    return JSON.parse(text, reviver) as unknown;
  },
});
