export { sequence } from './sequence.js';
export { parallel } from './parallel.js';
export type { ParallelOptions } from './parallel.js';
export { branch } from './branch.js';
export type { BranchPredicate } from './branch.js';
