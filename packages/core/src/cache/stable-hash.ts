import { nodeCrypto } from '../internal/crypto.js';

type OneShot = (algorithm: string, data: string, encoding: 'hex') => string;
// `crypto.hash` (Node >= 20.12) is a one-shot digest, noticeably cheaper than createHash for short input.
let oneShot: OneShot | null | undefined;

/** @internal SHA-256 of a UTF-8 string, as 64 hex characters. */
export function sha256Hex(text: string): string {
  const crypto = nodeCrypto();
  oneShot ??= (crypto as { hash?: OneShot }).hash ?? null;
  return oneShot !== null ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/**
 * @internal A canonical string for a value: equal for structurally equal inputs whatever their key
 * order, different for different ones. Not meant to be parsed, only hashed. Non-JSON types carry a
 * `!` prefix, which no JSON text starts with, so they never collide with JSON values.
 */
export function canonicalize(value: unknown): string {
  return write(value, []);
}

function write(value: unknown, stack: object[]): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      // -0 and 0 are the same key, as in JSON; NaN and the infinities get their own.
      return Number.isFinite(value) ? (value === 0 ? '0' : String(value)) : `!n${value}`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return '!u';
    case 'bigint':
      return `!b${value}`;
    case 'symbol':
    case 'function':
      throw new TypeError(`stableHash cannot hash a ${typeof value}; pass a \`key\` function to cache() instead`);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (stack.includes(obj)) throw new TypeError('stableHash cannot hash a cyclic structure; pass a `key` function to cache() instead');
  // No try/finally: a throw abandons the whole walk, stack included.
  stack.push(obj);
  const out = writeObject(obj, stack);
  stack.pop();
  return out;
}

/** JSON.stringify of a string, without the native call for the usual short, plain ones. */
function quote(s: string): string {
  if (s.length > 64) return JSON.stringify(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Control characters, `"`, `\` and surrogates (lone ones get escaped) go the slow way.
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

function writeObject(obj: object, stack: object[]): string {
  if (Array.isArray(obj)) {
    let out = '[';
    for (let i = 0; i < obj.length; i++) out += (i === 0 ? '' : ',') + write(obj[i], stack);
    return out + ']';
  }
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(obj);
    if (keys.length > 1) keys.sort();
    let out = '{';
    let first = true;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const v = (obj as Record<string, unknown>)[k];
      // As in JSON, an undefined property is the same as a missing one.
      if (v === undefined) continue;
      out += (first ? '' : ',') + quote(k) + ':' + write(v, stack);
      first = false;
    }
    return out + '}';
  }
  if (obj instanceof Date) {
    const t = obj.getTime();
    return Number.isNaN(t) ? '!dInvalid' : `!d${obj.toISOString()}`;
  }
  if (obj instanceof Map) {
    const pairs: string[] = [];
    for (const [k, v] of obj) pairs.push(`${write(k, stack)}=>${write(v, stack)}`);
    return `!m{${pairs.sort().join(',')}}`;
  }
  if (obj instanceof Set) {
    const items: string[] = [];
    for (const v of obj) items.push(write(v, stack));
    return `!s[${items.sort().join(',')}]`;
  }
  if (ArrayBuffer.isView(obj)) {
    return `!v${obj.constructor.name}:${Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64')}`;
  }
  if (obj instanceof ArrayBuffer) return `!a${Buffer.from(obj).toString('base64')}`;
  if (obj instanceof RegExp) return `!r${String(obj)}`;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return write((obj as { toJSON: () => unknown }).toJSON(), stack);
  }
  const name = (obj.constructor as { name?: unknown } | undefined)?.name;
  throw new TypeError(
    `stableHash cannot hash an instance of ${typeof name === 'string' && name !== '' ? name : 'a class'}: it hashes plain objects, arrays, primitives, bigint, Date, Map, Set, typed arrays and objects with toJSON(); pass a \`key\` function to cache() instead`,
  );
}

/**
 * A stable SHA-256 hash (64 hex characters) of a value: the same for structurally equal values
 * whatever the order of their object keys. It is the default cache key.
 *
 * - Plain objects are hashed with sorted keys; an `undefined` property counts as missing (as in JSON).
 * - `undefined`, `NaN`, `±Infinity`, `bigint`, `Date`, `Map`, `Set` (both order-insensitive),
 *   typed arrays, `ArrayBuffer` and `RegExp` are supported and never collide with look-alike JSON.
 * - Objects with a `toJSON()` method (URL, Decimal, ...) are hashed through it.
 * - Functions, symbols, cycles and other class instances throw a `TypeError`: give the cache a `key`.
 *
 * @example
 * ```ts
 * stableHash({ a: 1, b: [2, 3] }) === stableHash({ b: [2, 3], a: 1 }); // true
 * ```
 */
export function stableHash(value: unknown): string {
  return sha256Hex(canonicalize(value));
}
