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
export function queriesOfJson(json: { title: string; panels: Array<{ type: string; title: string; targets?: Array<{ expr: string; legendFormat: string }> }> }): PanelQuery[] {
  return json.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ dashboard: json.title, panel: p.title, legend: t.legendFormat, expr: t.expr })));
}
