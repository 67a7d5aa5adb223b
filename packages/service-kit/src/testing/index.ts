/**
 * Test helpers for Weft's sample services: build an app and run its `dist/main.js` as a child
 * process. A separate entry (`@weft/service-kit/testing`), so production code never loads them.
 * The redis-server spawner lives in `@weft/test-support`, shared with the library packages.
 */
export { ensureBuilt, spawnApp, stopApp, waitForOutput } from './built-app.js';
export { envReferenceBlocks } from './env-reference.js';
export type { RunningApp } from './built-app.js';
