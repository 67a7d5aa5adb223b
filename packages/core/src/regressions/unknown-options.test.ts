import { describe, expect, it } from 'vitest';
import {
  budget,
  bulkhead,
  Cache,
  cache,
  chaos,
  CircuitBreaker,
  circuitBreaker,
  cost,
  createPriceTable,
  fallback,
  hedge,
  LocalBudgetStore,
  LruStore,
  MemorySagaLog,
  parallel,
  rateLimit,
  retry,
  route,
  saga,
  step,
  timeout,
} from '../index.js';

// One validator, one message shape: every primitive, store and entry point rejects a misspelt
// option with `Unknown <owner> option \`<name>\``, a suggestion when one is near, and the known names.
const s = step('s', (x: number) => x);

const cases: Array<[string, () => unknown, string, string]> = [
  ['retry', () => retry(s, { retires: 2 } as never), 'retry', 'retries'],
  ['timeout', () => timeout(s, { ms: 5, unrf: true } as never), 'timeout', 'unref'],
  ['fallback', () => fallback(s, () => 1, { wehn: () => true } as never), 'fallback', 'when'],
  ['circuitBreaker', () => circuitBreaker(s, { openMS: 5 } as never), 'circuitBreaker', 'openMs'],
  ['CircuitBreaker', () => new CircuitBreaker({ treshold: 3 } as never), 'circuitBreaker', 'threshold'],
  ['bulkhead', () => bulkhead(s, { maxConcurrent: 1, maxQeue: 10 } as never), 'bulkhead', 'maxQueue'],
  ['rateLimit', () => rateLimit(s, { rate: 1, brust: 2 } as never), 'rateLimit', 'burst'],
  ['hedge', () => hedge(s, { delayMS: 10 } as never), 'hedge', 'delayMs'],
  ['chaos', () => chaos(s, { seeed: 1 } as never), 'chaos', 'seed'],
  ['cache', () => cache(s, { tllMs: 10 } as never), 'cache', 'ttlMs'],
  ['Cache', () => new Cache({ namespace: 'n', ttlms: 1 } as never), 'cache', 'ttlMs'],
  ['LruStore', () => new LruStore({ mx: 1 } as never), 'LruStore', 'max'],
  ['budget', () => budget(s, { name: 'b', perRun: 1, estimat: 1 } as never), 'budget', 'estimate'],
  ['LocalBudgetStore', () => new LocalBudgetStore({ bucket: 2 } as never), 'LocalBudgetStore', 'buckets'],
  ['cost', () => cost(s, { modle: 'x' } as never), 'cost', 'model'],
  ['createPriceTable', () => createPriceTable({}, { curency: 'EUR' } as never), 'createPriceTable', 'currency'],
  ['route', () => route(() => 'a' as const, { a: s }, { nmae: 'r' } as never), 'route', 'name'],
  ['saga', () => saga([{ step: s }], { leasMs: 5 } as never), 'saga', 'leaseMs'],
  ['MemorySagaLog', () => new MemorySagaLog({ retainFinishd: 5 } as never), 'MemorySagaLog', 'retainFinished'],
  ['parallel', () => parallel([s, s], { concurency: 2 } as never), 'parallel', 'concurrency'],
];

describe('unknown options', () => {
  it.each(cases)('%s rejects a misspelt option with the one message shape', (_label, build, owner, suggestion) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    const message = (error as TypeError).message;
    expect(message).toMatch(new RegExp(`^Unknown ${owner.replace('.', '\\.')} option \`\\w+\` \\(did you mean \`${suggestion}\`\\?\\); known options: `));
  });

  it('rejects a misspelt run option too', async () => {
    await expect(s.run(1, { timout: 5 } as never)).rejects.toThrow(/^Unknown run option `timout` \(did you mean `timeout`\?\)/);
  });
});
