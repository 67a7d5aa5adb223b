import { afterAll, beforeAll, expect } from 'vitest';

// Fail loudly on unhandled rejections: a primitive that leaks one is a bug.
process.on('unhandledRejection', (reason) => {
  throw reason;
});

// After every file of @weft/core's suite, no timer may be left active: a primitive that leaves a
// timer behind keeps a process alive after its last run. (Apps and store tests own servers and
// clients, which they close themselves and check in their own tests.)
const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
let baseline = 0;
beforeAll(() => {
  baseline = activeTimers(); // the test runner's own
});
afterAll(async () => {
  const file = expect.getState().testPath ?? '';
  if (!file.includes('/packages/core/src/')) return;
  // Let timers that user code in the tests started on purpose (work that ignored its signal) end.
  await new Promise((resolve) => setTimeout(resolve, 60));
  const left = activeTimers() - baseline;
  if (left > 0) throw new Error(`${left} timer(s) still active after ${file}`);
});
