import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

/** Whether tests that need something run: `skip` outside CI when it is missing; `failure` under CI=true. */
export interface Gate {
  readonly skip: boolean;
  /** Set under CI=true when what the tests need is missing: the reason they must fail with. */
  readonly failure: string | undefined;
}

/** Whether `name --version` runs: a binary on the PATH. */
export function hasBinary(name: string): boolean {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/**
 * The one rule for tests that need something a machine may lack (a server, a binary): when it is
 * there they run; when it is missing they are skipped with the reason printed, except under
 * CI=true, where skipping is not allowed and `failure` names what is missing.
 *
 * @example
 * ```ts
 * const promtool = gate('promtool on the PATH (apt-get install prometheus)', hasBinary('promtool'));
 * ```
 */
export function gate(need: string, available: boolean): Gate {
  if (available) return { skip: false, failure: undefined };
  if (process.env.CI === 'true') return { skip: false, failure: `These tests need ${need}, and CI=true forbids skipping them` };
  console.warn(`[skipped] these tests need ${need}`);
  return { skip: true, failure: undefined };
}

/**
 * `describe` under a {@link gate}: run, skipped with a printed reason, or (under CI=true, when what
 * it needs is missing) one failing test that says what is missing.
 *
 * @example
 * ```ts
 * describeWith('the redis-server binary on the PATH', 'when Redis dies', hasRedisServer(), () => { ... });
 * ```
 */
export function describeWith(need: string, name: string, available: boolean, body: () => void): void {
  const g = gate(need, available);
  describe.skipIf(g.skip)(name, () => {
    if (g.failure !== undefined) {
      const message = g.failure;
      it('has what it needs to run', () => {
        throw new Error(message);
      });
      return;
    }
    body();
  });
}
