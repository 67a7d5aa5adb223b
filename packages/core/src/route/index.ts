export { route, byWeight, byCost } from './route.js';
export { seededRandom } from '../internal/seeded-random.js';
export type { RouteSelector, RouteStrategy, RouteOptions, RouteReason, WeightedOptions, CostOptions, RouteMeta, RouteRequirement, MetaSource } from './route.js';
