import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWith, hasBinary } from '@weft/test-support';
import { expect, it } from 'vitest';
import { alertSpecs } from './alerts/alerts.js';
import { CONFIG } from './config.js';
import { PATHS } from './generate.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: join(root, 'alerts'), encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describeWith("promtool on the PATH (Debian's prometheus package; .ci/run installs it)", 'promtool', hasBinary('promtool'), () => {
  it('check rules passes on both rule files', () => {
    const { status, output } = promtool('check', 'rules', PATHS.recordingRules.replace('alerts/', ''), PATHS.alertRules.replace('alerts/', ''));
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  const tests = readdirSync(join(root, PATHS.tests)).sort();
  it('has one unit-test file per alert', () => {
    expect(tests).toEqual(alertSpecs(CONFIG).map((a) => `${a.file}.test.yml`).sort());
  });

  for (const file of tests) {
    it(`test rules passes ${file}: silent in one case, firing with exact labels and annotations in the other`, () => {
      const { status, output } = promtool('test', 'rules', `tests/${file}`);
      expect(status, output).toBe(0);
      expect(output).toContain('SUCCESS');
    });
  }
});
