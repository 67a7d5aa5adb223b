/**
 * `npm run chaos:orders [-- --orders 1500 --kills 8 --kill-redis [--no-aof]]`: the orders chaos run
 * (see orders-chaos.ts). `--kill-redis` kills Redis mid-load and restarts it from its append-only
 * file; with `--no-aof` it restarts empty, to show what a Redis without persistence loses. Progress goes to stderr; stdout gets exactly one line:
 *
 *   orders: <n> completed, <n> compensated, <n> half-undone, <n> duplicated effects, <n> live sagas taken over
 *
 * Exit code 1 when any of the last three is not 0 or a card number is found in Redis; 3 when
 * redis-server is missing.
 */
import { parseArgs } from 'node:util';
import { hasRedisServer } from '@weft/test-support';
import { runOrdersChaos } from './orders-chaos.js';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '1500' },
    concurrency: { type: 'string', default: '30' },
    kills: { type: 'string', default: '8' },
    'kill-every-ms': { type: 'string', default: '2500' },
    'kill-redis': { type: 'boolean', default: false },
    'no-aof': { type: 'boolean', default: false },
    'latency-ms': { type: 'string', default: '20' },
  },
});
const n = (name: keyof typeof values, min: number): number => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min) {
    console.error(`chaos:orders: Expected \`--${name}\` to be an integer >= ${min}, got ${JSON.stringify(values[name])}`);
    process.exit(2);
  }
  return v;
};
if (!hasRedisServer()) {
  console.error('chaos:orders: redis-server is not on the PATH (apt-get install redis-server)');
  process.exit(3);
}
const report = await runOrdersChaos({
  orders: n('orders', 1),
  concurrency: n('concurrency', 1),
  kills: n('kills', 0),
  killEveryMs: n('kill-every-ms', 100),
  killRedis: values['kill-redis'] === true,
  redisAof: values['no-aof'] !== true,
  serviceLatencyMs: n('latency-ms', 0),
  log: (line) => console.error(`[chaos:orders] ${line}`),
});
console.error(
  `[chaos:orders] ${report.kills} process kills, ${report.redisKills} Redis kills, ${report.takeovers} takeovers of dead instances' sagas, ${report.neverStarted} orders never started (refused before the saga began), ${report.recordsLost} placed orders whose saga record was lost, answers ${JSON.stringify(report.answers)}, card number in Redis: ${report.cardInRedis ? 'YES' : 'no'}`,
);
for (const p of report.problems) console.error(`[chaos:orders] problem: ${p}`);
console.log(report.line);
process.exit(report.halfUndone + report.duplicatedEffects + report.liveTakeovers + report.recordsLost > 0 || report.cardInRedis ? 1 : 0);
