export { hedge } from './hedge.js';
export type { HedgeOptions, HedgeQuantileDelay } from './hedge.js';
