import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds the app with tsc when `dist/main.js` is missing or older than a source file.
 *
 * @example
 * ```ts
 * beforeAll(() => ensureBuilt(APP_DIR), 120_000);
 * ```
 */
export function ensureBuilt(appDir: string): void {
  const main = join(appDir, 'dist', 'main.js');
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.test.ts') ? 0 : statSync(join(dir, e.name)).mtimeMs)));
  if (existsSync(main) && statSync(main).mtimeMs >= newest(join(appDir, 'src'))) return;
  execFileSync(process.execPath, [join(appDir, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(appDir, 'tsconfig.build.json')], { stdio: 'inherit' });
}

/** A built app running as a child process. */
export interface RunningApp {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

/**
 * Spawns `node dist/main.js` of an app with `env` added to a minimal environment.
 *
 * @example
 * ```ts
 * const running = spawnApp(APP_DIR, { PORT: '0' });
 * ```
 */
export function spawnApp(appDir: string, env: Record<string, string>): RunningApp {
  const child = spawn(process.execPath, [join(appDir, 'dist', 'main.js')], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stderr: () => err, exited };
}

/**
 * Waits until stderr matches `pattern` and returns the match, or throws after `timeoutMs`.
 *
 * @example
 * ```ts
 * const [, url] = await waitForOutput(running, /listening on (http:\/\/\S+)/);
 * ```
 */
export async function waitForOutput(app: RunningApp, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const started = Date.now();
  for (;;) {
    const match = pattern.exec(app.stderr());
    if (match) return match;
    if (app.child.exitCode !== null) throw new Error(`the app exited with ${app.child.exitCode}: ${app.stderr()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${pattern}: ${app.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Kills a child that is still running (test clean-up).
 *
 * @example
 * ```ts
 * afterEach(() => stopApp(running));
 * ```
 */
export async function stopApp(app: RunningApp | undefined): Promise<void> {
  if (app === undefined || app.child.exitCode !== null || app.child.signalCode !== null) return;
  app.child.kill('SIGKILL');
  await app.exited;
}
