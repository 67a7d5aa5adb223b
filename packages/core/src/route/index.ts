export { route, byWeight, byCost, mulberry32 } from './route.js';
export type { RouteSelector, RouteStrategy, RouteOptions, RouteReason, WeightedOptions, CostOptions, RouteMeta, RouteRequirement, MetaSource } from './route.js';
