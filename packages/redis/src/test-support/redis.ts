import { describeWith as sharedDescribeWith, REDIS_SERVER } from '@weft/test-support';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { createWeftRedis, type WeftRedis, type WeftRedisOptions } from '../weft-redis.js';

/** The shared test server: REDIS_URL, else the local default. */
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** A key prefix unique to this test run, so runs never see each other's keys. */
function uniquePrefix(label: string): string {
  return `weft-test:${label}:${randomUUID().slice(0, 8)}`;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) };
}

/** Whether something answers PING at `url` within a second. */
export async function redisReachable(url = REDIS_URL): Promise<boolean> {
  const { host, port } = hostPort(url);
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => finish(false), 1_000);
    let buffer = '';
    function finish(ok: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      buffer += d.toString();
      // +PONG, or -NOAUTH when a password is needed: either way a Redis answered.
      if (buffer.includes('\r\n')) finish(buffer.startsWith('+PONG') || buffer.startsWith('-NOAUTH'));
    });
    socket.on('error', () => finish(false));
  });
}

/** A client on the shared test server with a unique prefix. */
export function testRedis(label: string, options?: WeftRedisOptions): WeftRedis {
  return createWeftRedis({ url: REDIS_URL, prefix: uniquePrefix(label), ...options });
}

/** Deletes every key under `prefix` on the server at `url` (test clean-up). */
export async function cleanUp(redis: WeftRedis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.command<[string, string[]]>(['SCAN', cursor, 'MATCH', `${redis.prefix}:*`, 'COUNT', 1000], { timeoutMs: 5_000 });
    cursor = next;
    if (keys.length > 0) await redis.command(['DEL', ...keys], { timeoutMs: 5_000 });
  } while (cursor !== '0');
}

/**
 * `describe` for suites that need the shared Redis (or, with `'redis-server'`, the binary to run
 * their own): {@link sharedDescribeWith} from @weft/test-support, with what each needs spelt out.
 */
export function describeWith(requirement: 'redis' | 'redis-server', name: string, available: boolean, body: () => void): void {
  sharedDescribeWith(requirement === 'redis' ? `a Redis server at ${REDIS_URL} (set REDIS_URL)` : REDIS_SERVER, name, available, body);
}
