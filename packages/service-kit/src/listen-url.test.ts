import { describe, expect, it } from 'vitest';
import { listenUrl } from './listen-url.js';

describe('listenUrl', () => {
  it('shows the port the server bound, not the configured 0', () => {
    expect(listenUrl({ address: '127.0.0.1', family: 'IPv4', port: 41234 }, '127.0.0.1', 0)).toBe('http://127.0.0.1:41234');
  });

  it('falls back to the configured port when the address is not a socket address', () => {
    expect(listenUrl(null, 'localhost', 3000)).toBe('http://localhost:3000');
    expect(listenUrl('/tmp/app.sock', 'localhost', 3000)).toBe('http://localhost:3000');
  });

  it('shows loopback for the wildcard hosts and brackets IPv6 addresses', () => {
    expect(listenUrl(null, '0.0.0.0', 3000)).toBe('http://127.0.0.1:3000');
    expect(listenUrl(null, '::', 3000)).toBe('http://127.0.0.1:3000');
    expect(listenUrl(null, '::1', 3000)).toBe('http://[::1]:3000');
  });
});
