export { chaos, CHAOS_ENV } from './chaos.js';
export type { ChaosOptions, ChaosFault, ChaosLatency, ChaosResult } from './chaos.js';
export { seededRandom } from './seeded-random.js';
