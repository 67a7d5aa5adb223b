import type { MonitoringConfig } from '../config.js';
import type { DashboardSpec } from '../grafana.js';
import { cacheCostDashboard } from './cache-cost.js';
import { serviceDashboard } from './service.js';
import { workflowsDashboard } from './workflows.js';

/** Every dashboard, with the file name it is written to under `dashboards/generated/`. */
export function dashboardSpecs(config: MonitoringConfig): ReadonlyArray<{ readonly file: string; readonly spec: DashboardSpec }> {
  return [
    { file: 'weft-workflows.json', spec: workflowsDashboard(config) },
    { file: 'weft-cache-cost.json', spec: cacheCostDashboard(config) },
    { file: 'weft-service.json', spec: serviceDashboard(config) },
  ];
}
