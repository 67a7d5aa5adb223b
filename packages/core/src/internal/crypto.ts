import type * as NodeCryptoModule from 'node:crypto';
import { createRequire } from 'node:module';

type NodeCrypto = typeof NodeCryptoModule;

let crypto: NodeCrypto | undefined;

/**
 * `node:crypto`, loaded on first use rather than on import: it is one of the costlier built-ins to
 * load (about 5 ms), and a run that has a correlation ID and caches nothing never needs it.
 */
export function nodeCrypto(): NodeCrypto {
  return (crypto ??= createRequire(import.meta.url)('node:crypto') as NodeCrypto);
}

/** A random RFC 4122 version 4 UUID. */
export function randomUUID(): string {
  return nodeCrypto().randomUUID();
}
