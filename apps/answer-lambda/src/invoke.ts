/**
 * The local runner: starts the simulated providers on loopback, points `ANSWER_PROVIDERS` at them,
 * loads the handler as Lambda would (a fresh module, so its init phase runs), and invokes it with an
 * API Gateway event fixture and a Lambda context whose deadline is `--timeout` ms away.
 *
 *   npm run invoke --workspace @weft/answer-lambda -- fixtures/apigateway-v2-answer.json [--timeout 3000] [--down alpha,beta]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulatedProviders } from '@weft/simulated-providers';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { timeout: { type: 'string', default: '29000' }, down: { type: 'string', default: '' } } });
const file = positionals[0] ?? 'fixtures/apigateway-v2-answer.json';
const event = JSON.parse(readFileSync(resolve(file), 'utf8')) as unknown;
const timeout = Number(values.timeout);
if (!Number.isInteger(timeout) || timeout <= 0) throw new TypeError(`Expected \`--timeout\` to be a positive integer of ms, got ${values.timeout}`);

const sim = await startSimulatedProviders({ port: 0, providers: { alpha: { latencyMs: 20 }, beta: { latencyMs: 40 }, gamma: { latencyMs: 60 } } });
for (const name of values.down.split(',').filter(Boolean)) sim.configure(name, { down: true });
process.env.ANSWER_PROVIDERS = JSON.stringify([
  { name: 'alpha', baseUrl: sim.baseUrlFor('alpha'), model: 'gpt-4o-mini', quality: 0.6 },
  { name: 'beta', baseUrl: sim.baseUrlFor('beta'), model: 'gpt-4.1-mini', quality: 0.75 },
  { name: 'gamma', baseUrl: sim.baseUrlFor('gamma'), model: 'gpt-4o', quality: 0.9 },
]);
try {
  const { handler } = await import('./handler.js');
  const deadline = Date.now() + timeout;
  const result = await handler(event, { getRemainingTimeInMillis: () => deadline - Date.now(), functionName: 'answer', awsRequestId: `local-${Date.now()}` });
  console.log(JSON.stringify(result, null, 2));
} finally {
  await sim.close();
}
