export { bulkhead, Bulkhead } from './bulkhead.js';
export type { BulkheadOptions, BulkheadArg } from './bulkhead.js';
