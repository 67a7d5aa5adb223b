import type { DashboardSpec } from '../grafana.js';

/** One query of one panel. */
export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly legend: string;
  readonly expr: string;
}

/** Every query of every panel of a dashboard. */
export function panelQueries(spec: DashboardSpec): PanelQuery[] {
  return spec.rows.flatMap((row) => row.panels.flatMap((p) => p.queries.map((q) => ({ dashboard: spec.title, panel: p.title, legend: q.legend, expr: q.expr }))));
}

/**
 * A dashboard query as Grafana would send it with every variable on All: `$job` and friends become
 * `.*`, and `$__rate_interval` the given window.
 */
export function expandVariables(expr: string, rateInterval: string): string {
  return expr.replace(/\$__rate_interval/g, rateInterval).replace(/\$(job|instance|workflow|step)\b/g, '.*');
}

/** The panel queries of a generated dashboard JSON (what users import). */
/** A generated dashboard file, as far as the tests read it. */
export interface DashboardJson {
  readonly __inputs: readonly unknown[];
  readonly uid: string;
  readonly title: string;
  readonly version: number;
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query?: { readonly query: string }; readonly current?: { readonly value: string } }[] };
  readonly panels: readonly DashboardPanel[];
}

/** One panel of a {@link DashboardJson}. */
interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description: string;
  readonly datasource: unknown;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly { readonly expr: string; readonly legendFormat: string }[];
  readonly fieldConfig?: { readonly defaults: { readonly thresholds?: { readonly steps: readonly { readonly value: number | null }[] } } };
}

export function queriesOfJson(json: Pick<DashboardJson, 'title' | 'panels'>): PanelQuery[] {
  return json.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ dashboard: json.title, panel: p.title, legend: t.legendFormat, expr: t.expr })));
}
