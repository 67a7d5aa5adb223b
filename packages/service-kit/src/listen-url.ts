import type { AddressInfo } from 'node:net';

/**
 * The URL to print for a server that listens on `host`: the bound port (from `address`, so port 0
 * shows the one picked), loopback for the wildcard hosts, and brackets around IPv6 addresses.
 *
 * @example
 * ```ts
 * listenUrl(app.server.address(), '0.0.0.0', 3000); // 'http://127.0.0.1:3000'
 * ```
 */
export function listenUrl(address: AddressInfo | string | null, host: string, port: number): string {
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${bound}`;
}
