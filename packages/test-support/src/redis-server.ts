import { gate, type Gate } from './gate.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A free TCP port on loopback.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether `redis-server` is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** What the Redis-server tests need, as {@link gate} and {@link describeWith} print it. */
export const REDIS_SERVER = 'the redis-server binary on the PATH (apt-get install redis-server)';

/**
 * The {@link gate} for tests that start their own redis-server.
 *
 * @example
 * ```ts
 * const g = redisServerGate();
 * describe.skipIf(g.skip)('readiness', () => { ... });
 * ```
 */
export function redisServerGate(): Gate {
  return gate(REDIS_SERVER, hasRedisServer());
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => done(false), 1_000);
    function done(ok: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
    socket.on('error', () => done(false));
  });
}

/**
 * A dedicated `redis-server --save ''` (no persistence, or an fsync-always append-only file) on one loopback port, for tests and
 * scenarios that kill Redis and start it again on the same port.
 *
 * @example
 * ```ts
 * const server = await RedisServer.launch();   // a free port, started
 * const config = loadConfig({ REDIS_URL: server.url });
 * await server.kill();    // SIGKILL: clients see the connection drop
 * await server.start();   // back on the same port, empty
 * ```
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private readonly dir: string | undefined;
  /**
   * @param port the loopback port
   * @param options `appendOnly`: keep an append-only file (fsync on every write) in a temporary
   *   directory, so data survives `kill()` and `start()`, as a durable production Redis would
   */
  constructor(
    readonly port: number,
    options: { readonly appendOnly?: boolean } = {},
  ) {
    this.dir = options.appendOnly ? mkdtempSync(join(tmpdir(), 'weft-redis-aof-')) : undefined;
  }

  /** Starts one on a free port and waits until it answers PING. */
  static async launch(options: { readonly appendOnly?: boolean } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options);
    await server.start();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts) the server and waits until it answers PING. Idempotent while running. */
  async start(): Promise<void> {
    if (this.child !== undefined) return;
    const persistence = this.dir === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir];
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--daemonize', 'no'], { stdio: 'ignore' });
    const started = Date.now();
    while (!(await answersPing(this.port))) {
      if (Date.now() - started > 10_000) {
        await this.kill();
        throw new Error(`redis-server on port ${this.port} did not start`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Kills it and removes its append-only file, if any. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Kills it (SIGKILL) and waits for the exit. Idempotent. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
