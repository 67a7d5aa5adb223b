/**
 * A small builder for importable Grafana dashboard JSON: the `__inputs` data source, template
 * variables, rows and panels laid out on Grafana's 24-column grid.
 */

/** The data source every panel and variable queries: the `datasource` variable. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** One PromQL query of a panel. */
export interface Query {
  readonly expr: string;
  /** Legend, e.g. `{{workflow}}`. */
  readonly legend: string;
  /** `heatmap` for bucket queries drawn as heatmaps. @default 'time_series' */
  readonly format?: 'time_series' | 'heatmap';
}

/** A threshold drawn on a panel: from `value` up, in `color`. */
export interface Threshold {
  readonly value: number;
  readonly color: 'orange' | 'red' | 'green';
}

/** What a dashboard module declares for one panel. */
export interface PanelSpec {
  /** A stable key that alerts use to link their runbooks to this panel. */
  readonly key: string;
  readonly title: string;
  /** What the panel shows and how to read it; Grafana shows it on hover. */
  readonly description: string;
  readonly type: 'timeseries' | 'heatmap' | 'state-timeline' | 'stat';
  readonly queries: readonly Query[];
  /** Grafana unit id: `reqps`, `percentunit`, `s`, `bytes`, `ops`, `short`, `currencyUSD`... @default 'short' */
  readonly unit?: string;
  readonly thresholds?: readonly Threshold[];
  /** Width on the 24-column grid. @default 8 */
  readonly width?: number;
  /** Height in grid units. @default 8 */
  readonly height?: number;
  /** Repeat the panel once per value of this variable. */
  readonly repeat?: string;
  /** Value-to-text mappings (state timelines). */
  readonly mappings?: ReadonlyArray<{ readonly value: number; readonly text: string; readonly color: string }>;
  /** Stack series. @default false */
  readonly stack?: boolean;
}

/** A titled row of panels. */
export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

/** What a dashboard module declares. */
export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** Bumped by hand when a change should replace copies users imported. */
  readonly version: number;
  readonly rows: readonly RowSpec[];
  /** The metric the job/instance/workflow variables read their values from. */
  readonly variableSource: { readonly metric: string; readonly step: string };
}

/** The panel id and URL path of a panel, for runbook links. */
export interface PanelLink {
  readonly dashboardUid: string;
  readonly dashboardTitle: string;
  readonly panelId: number;
  readonly panelTitle: string;
  /** Path under the Grafana root: `/d/<uid>/<slug>?viewPanel=<id>`. */
  readonly path: string;
}

type Json = Record<string, unknown>;

/** Grafana's URL slug of a title. */
export function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function variable(name: string, label: string, query: string, includeAll = true): Json {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    includeAll,
    allValue: '.*',
    multi: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
    regex: '',
    options: [],
  };
}

/** The template variables: data source, then job, instance, workflow and step, each narrowing the next. */
function templating(spec: DashboardSpec): Json {
  const { metric, step } = spec.variableSource;
  return {
    list: [
      {
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        current: { selected: true, text: '${DS_PROMETHEUS}', value: '${DS_PROMETHEUS}' },
        hide: 0,
        refresh: 1,
        regex: '',
        options: [],
      },
      variable('job', 'Job', `label_values(${metric}, job)`),
      variable('instance', 'Instance', `label_values(${metric}{job=~"$job"}, instance)`),
      variable('workflow', 'Workflow', `label_values(${step}_count{job=~"$job", instance=~"$instance"}, workflow)`),
      variable('step', 'Step', `label_values(${step}_count{job=~"$job", instance=~"$instance", workflow=~"$workflow"}, step)`),
    ],
  };
}

function panelJson(p: PanelSpec, id: number, x: number, y: number): Json {
  const steps = [{ color: 'green', value: null }, ...(p.thresholds ?? []).map((t) => ({ color: t.color, value: t.value }))];
  const custom: Json =
    p.type === 'timeseries'
      ? {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: p.stack ? 30 : 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
          thresholdsStyle: { mode: p.thresholds === undefined ? 'off' : 'line+area' },
        }
      : p.type === 'state-timeline'
        ? { lineWidth: 0, fillOpacity: 80 }
        : {};
  const options: Json =
    p.type === 'heatmap'
      ? { calculate: false, yAxis: { unit: p.unit ?? 's', axisPlacement: 'left' }, cellGap: 1, color: { mode: 'scheme', scheme: 'Spectral', steps: 64 }, tooltip: { mode: 'single', showColorScale: true }, legend: { show: true } }
      : p.type === 'state-timeline'
        ? { showValue: 'never', mergeValues: true, rowHeight: 0.9, legend: { showLegend: true, displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'single' } }
        : p.type === 'stat'
          ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value_and_name', orientation: 'auto' }
          : { legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] }, tooltip: { mode: 'multi', sort: 'desc' } };
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos: { x, y, w: p.width ?? 8, h: p.height ?? 8 },
    ...(p.repeat === undefined ? {} : { repeat: p.repeat, repeatDirection: 'h', maxPerRow: 3 }),
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend,
      range: true,
      instant: false,
      format: q.format ?? 'time_series',
      ...(q.format === 'heatmap' ? { interval: '', intervalFactor: 1 } : {}),
    })),
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        min: p.type === 'timeseries' ? 0 : undefined,
        thresholds: { mode: 'absolute', steps },
        color: { mode: p.type === 'state-timeline' || p.type === 'stat' ? 'thresholds' : 'palette-classic' },
        mappings:
          p.mappings === undefined
            ? []
            : [{ type: 'value', options: Object.fromEntries(p.mappings.map((m, i) => [String(m.value), { text: m.text, color: m.color, index: i }])) }],
        custom,
      },
      overrides: [],
    },
    options,
  };
}

/** A built dashboard: its JSON and where each panel key landed. */
export interface BuiltDashboard {
  readonly json: Json;
  readonly links: ReadonlyMap<string, PanelLink>;
}

/**
 * Builds importable dashboard JSON: `__inputs` asks for a Prometheus data source on import, and the
 * `datasource` variable lets users switch it later. Panels flow left to right in rows.
 */
export function buildDashboard(spec: DashboardSpec, settings: { readonly refresh: string; readonly from: string }): BuiltDashboard {
  const panels: Json[] = [];
  const links = new Map<string, PanelLink>();
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      if (links.has(p.key)) throw new TypeError(`Expected panel keys to be unique in ${spec.uid}, got ${JSON.stringify(p.key)} twice`);
      links.set(p.key, { dashboardUid: spec.uid, dashboardTitle: spec.title, panelId: id, panelTitle: p.title, path: `/d/${spec.uid}/${slug(spec.title)}?viewPanel=${id}` });
      panels.push(panelJson(p, id++, x, y));
      x += w;
      rowHeight = Math.max(rowHeight, p.height ?? 8);
    }
    y += rowHeight;
  }
  const panelTypes = [...new Set(spec.rows.flatMap((r) => r.panels.map((p) => p.type)))].sort();
  const json: Json = {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', description: 'The Prometheus that scrapes your Weft services', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ...panelTypes.map((t) => ({ type: 'panel', id: t, name: t, version: '' })),
    ],
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    version: spec.version,
    schemaVersion: 39,
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    time: { from: settings.from, to: 'now' },
    refresh: settings.refresh,
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    links: [{ title: 'Weft', type: 'dashboards', tags: ['weft'], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link' }],
    templating: templating(spec),
    panels,
  };
  return { json, links };
}
