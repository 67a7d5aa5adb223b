export { fallback } from './fallback.js';
export type { FallbackAlternative, FallbackArgs, FallbackFn, FallbackOptions } from './fallback.js';
