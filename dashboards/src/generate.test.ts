import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alertSpecs } from './alerts/alerts.js';
import { CONFIG } from './config.js';
import { dashboardSpecs } from './dashboards/index.js';
import { generateFiles, PATHS } from './generate.js';
import type { DashboardJson } from './test-support/panel-queries.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const files = generateFiles(CONFIG);

describe('generated files', () => {
  it('match the checked-in files byte for byte (run `npm run generate --workspace @weft/dashboards` after changing dashboards/src)', () => {
    const drifted = [...files].filter(([path, content]) => !existsSync(join(root, path)) || readFileSync(join(root, path), 'utf8') !== content).map(([path]) => path);
    expect(drifted).toEqual([]);
  });

  it('leave no checked-in file behind whose source is gone', () => {
    const stale = [PATHS.dashboards, PATHS.tests, PATHS.runbooks].flatMap((dir) => readdirSync(join(root, dir)).map((name) => `${dir}/${name}`)).filter((path) => !files.has(path));
    expect(stale).toEqual([]);
  });

  it('give each alert a runbook and a promtool test, and each runbook links to a panel of a generated dashboard', () => {
    for (const a of alertSpecs(CONFIG)) {
      const book = files.get(`${PATHS.runbooks}/${a.file}.md`);
      expect(book, a.name).toBeDefined();
      expect(book).toMatch(new RegExp(`/d/${a.panel.dashboard}/[a-z0-9-]+\\?viewPanel=\\d+`));
      expect(files.has(`${PATHS.tests}/${a.file}.test.yml`), a.name).toBe(true);
    }
  });
});

describe('dashboards', () => {
  const dashboards = dashboardSpecs(CONFIG).map(({ file }) => JSON.parse(files.get(`${PATHS.dashboards}/${file}`)!) as DashboardJson);

  it('are importable: a Prometheus __inputs data source, a uid, a version and the job, instance, workflow and step variables', () => {
    for (const d of dashboards) {
      expect(d.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }) as unknown]);
      expect(d.uid).toMatch(/^weft-[a-z-]+$/);
      expect(d.version).toBeGreaterThanOrEqual(1);
      expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'instance', 'workflow', 'step']);
      expect(d.templating.list[0]?.current?.value).toBe('${DS_PROMETHEUS}');
    }
    expect(dashboards.map((d) => d.title)).toEqual(['Weft: Workflows', 'Weft: Cache & Cost', 'Weft: Service']);
  });

  it('give every panel a unique id, a description, the datasource variable and a grid position inside 24 columns', () => {
    for (const d of dashboards) {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of d.panels.filter((x) => x.type !== 'row')) {
        expect(p.description.length, p.title).toBeGreaterThan(10);
        expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
      }
    }
  });

  it('draw the alert thresholds from the shared config on the panels the alerts link to', () => {
    const workflows = dashboards[0]!;
    const panel = (title: string) => workflows.panels.find((p) => p.title === title);
    const steps = (title: string) => panel(title)?.fieldConfig?.defaults.thresholds?.steps.map((s) => s.value);
    expect(steps('Error ratio by workflow')).toContain(CONFIG.thresholds.workflowErrorRatio);
    expect(steps('Run duration p50 / p95 / p99 by workflow')).toContain(CONFIG.thresholds.workflowP95Seconds);
    expect(steps('Share served by a fallback')).toContain(CONFIG.thresholds.fallbackRatio);
  });
});
