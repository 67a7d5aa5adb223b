import { gate, hasBinary, type Gate } from './gate.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, hasRedisServer } from './redis-server.js';

/** What the Redis Cluster tests need, as {@link gate} and {@link describeWith} print it. */
export const REDIS_CLUSTER = 'the redis-server and redis-cli binaries on the PATH (apt-get install redis-server)';

/** Whether `redis-server` and `redis-cli` are on the PATH. */
export function hasRedisCluster(): boolean {
  return hasRedisServer() && hasBinary('redis-cli');
}

/**
 * The {@link gate} for tests that start their own {@link RedisCluster}.
 *
 * @example
 * ```ts
 * const g = redisClusterGate();
 * describe.skipIf(g.skip)('on a cluster', () => { ... });
 * ```
 */
export function redisClusterGate(): Gate {
  return gate(REDIS_CLUSTER, hasRedisCluster());
}

/** The cluster bus of a node listens on its port + 10000. */
const BUS_OFFSET = 10_000;
/** How long {@link RedisCluster.launch} may take in all (under vitest's 30 s hook timeout, so its own error shows). */
const LAUNCH_MS = 25_000;
/** Launch attempts when a node exits on start-up (its port was taken between choosing and binding it). */
const ATTEMPTS = 3;

/** Whether `port` can be bound on loopback right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` free loopback ports whose cluster bus ports (port + 10000) are free too, all distinct. */
async function freeClusterPorts(count: number): Promise<number[]> {
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 200) throw new Error(`RedisCluster: could not find ${count} free port pairs (port and port + ${BUS_OFFSET})`);
    const port = await freePort();
    const bus = port + BUS_OFFSET;
    if (bus > 65_535 || taken.has(port) || taken.has(bus) || !(await isFree(bus))) continue;
    taken.add(port);
    taken.add(bus);
    ports.push(port);
  }
  return ports;
}

/** Runs `redis-cli args`; resolves with its stdout, rejects with its stderr/stdout when it fails or takes over `timeoutMs`. */
function redisCli(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      const why = error.killed ? `killed after ${timeoutMs} ms` : `exit code ${String(error.code)}`;
      reject(new Error(`redis-cli ${args.join(' ')} failed (${why}): ${`${stderr}${stdout}`.trim()}`));
    });
  });
}

/** A step that cannot succeed by waiting longer: {@link until} rethrows it at once. */
class StepFailed extends Error {}

/**
 * Polls `check` every 50 ms until it is true (a rejection counts as not yet, except a
 * {@link StepFailed}); rejects naming `step` once `deadline` (epoch ms) has passed.
 */
async function until(step: string, deadline: number, check: () => Promise<boolean>, detail: () => string = () => ''): Promise<void> {
  const notYet = (error: unknown): boolean => {
    if (error instanceof StepFailed) throw error;
    return false;
  };
  while (!(await check().catch(notYet))) {
    if (Date.now() > deadline) {
      const more = detail();
      throw new Error(`RedisCluster: ${step} did not happen in time${more === '' ? '' : `: ${more}`}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One redis-server of the cluster, with the tail of its output for error messages. */
interface Node {
  readonly port: number;
  readonly child: ChildProcess;
  output: string;
}

/** Every child still running in this process, killed on exit so none outlives the test run. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGKILLs `child` and waits for the exit. Does nothing when it has already exited. */
function killChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * A real Redis Cluster of `masters` redis-server child processes (no replicas) on free loopback
 * ports, with its config files in a temp dir: for tests of code that must work against a cluster
 * (hash slots, MOVED redirections, pub/sub across nodes).
 *
 * @example
 * ```ts
 * const cluster = await RedisCluster.launch();          // 3 masters, all slots assigned, cluster_state:ok
 * const redis = createWeftRedis({ clusterUrls: cluster.urls });
 * await cluster.killNode(0);                            // SIGKILL one master
 * await cluster.stop();                                 // kill them all, remove the temp dir
 * ```
 */
export class RedisCluster {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly nodes: readonly Node[],
  ) {}

  /**
   * Starts the nodes, waits until each answers PING, joins them with `redis-cli --cluster create`
   * and waits until every node reports `cluster_state:ok`. Rejects (after cleaning up) naming the
   * step that failed.
   */
  static async launch(options?: { masters?: number }): Promise<RedisCluster> {
    const masters = options?.masters ?? 3;
    if (!Number.isInteger(masters) || masters < 3) throw new RangeError(`RedisCluster needs an integer of at least 3 masters, got ${String(masters)}`);
    const deadline = Date.now() + LAUNCH_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await RedisCluster.launchOnce(masters, deadline);
      } catch (error) {
        // Another process took a port between freeClusterPorts() and redis-server binding it: try new ports.
        if (!(error instanceof StepFailed) || attempt >= ATTEMPTS || Date.now() > deadline) throw error;
      }
    }
  }

  private static async launchOnce(masters: number, deadline: number): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'weft-redis-cluster-'));
    const nodes: Node[] = [];
    const cluster = new RedisCluster(dir, nodes);
    try {
      for (const port of await freeClusterPorts(masters)) nodes.push(startNode(dir, port));
      for (const node of nodes) {
        await until(
          `redis-server on port ${node.port} answering PING`,
          deadline,
          async () => {
            if (exited(node.child)) {
              throw new StepFailed(`RedisCluster: redis-server on port ${node.port} exited (${node.child.exitCode ?? node.child.signalCode}) before answering PING: ${node.output}`);
            }
            return (await redisCli(['-p', String(node.port), 'ping'], 2_000)).trim() === 'PONG';
          },
          () => node.output,
        );
      }
      const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
      try {
        await redisCli(['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], Math.max(1_000, deadline - Date.now()));
      } catch (error) {
        throw new Error(`RedisCluster: joining the nodes failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      for (const node of nodes) {
        let last = '';
        await until(
          `cluster_state:ok on the node on port ${node.port}`,
          deadline,
          async () => {
            last = await redisCli(['-p', String(node.port), 'cluster', 'info'], 2_000);
            return /^cluster_state:ok\r?$/m.test(last);
          },
          () => last.split('\n').slice(0, 7).join(' ').replace(/\s+/g, ' '),
        );
      }
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** `redis://127.0.0.1:<port>` of every node, in launch order. */
  get urls(): string[] {
    return this.nodes.map((n) => `redis://127.0.0.1:${n.port}`);
  }

  /** SIGKILLs node `i` (its slots become unavailable: there are no replicas) and waits for the exit. Idempotent. */
  async killNode(i: number): Promise<void> {
    const node = this.nodes[i];
    if (node === undefined) throw new RangeError(`RedisCluster has ${this.nodes.length} nodes, no node ${i}`);
    await killChild(node.child);
  }

  /** Kills every node and removes the temp dir. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= Promise.all(this.nodes.map((n) => killChild(n.child))).then(() => rm(this.dir, { recursive: true, force: true }));
    return this.stopping;
  }
}

function startNode(dir: string, port: number): Node {
  const args = [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', join(dir, `nodes-${port}.conf`),
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--cluster-node-timeout', '2000',
    '--dir', dir,
    '--daemonize', 'no',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const node: Node = { port, child, output: '' };
  // Keep the last few KB of its log for error messages (and keep the pipes drained).
  const keep = (chunk: Buffer): void => {
    node.output = (node.output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(`\n${error.message}`)));
  return node;
}
