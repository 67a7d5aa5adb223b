import { CircuitBreaker, createPriceTable, isWeftError, step, type Primitive } from '@weft/core';

/** What the soak asks: a topic (the cache key) and the run's index. */
interface Question {
  readonly topic: number;
  readonly n: number;
}

/** What the chain answers: who served it, and the run that produced it (differs on a cache hit). */
export interface Answer {
  readonly source: 'primary' | 'fallback';
  readonly text: string;
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly runId: string;
}

/** The fault mix chaos() injects; rates are shares of calls. */
export interface FaultMix {
  /** Share of provider calls that throw a ChaosError. @default 0.08 */
  readonly errorRate: number;
  /** Share of provider calls delayed by 1-40 ms (past the 25 ms timeout beyond 25 ms). @default 0.02 */
  readonly latencyRate: number;
  /** Share of backup calls that throw, so some runs end in a typed FallbackError. @default 0.2 */
  readonly backupErrorRate: number;
}

/** The default fault mix. */
const DEFAULT_FAULTS = { errorRate: 0.08, latencyRate: 0.02, backupErrorRate: 0.2 } as const satisfies FaultMix;

/** The model the price table prices the provider's tokens with. */
const SOAK_MODEL = 'soak-model';

/** The soak's chain and the switches the driver flips. */
export interface SoakChain {
  readonly flow: Primitive<Question, Answer>;
  readonly breaker: CircuitBreaker;
  /** While true, every provider call fails (an outage): the breaker opens and the backup serves. */
  outage: boolean;
}

/**
 * Builds the realistic chain the soak runs a million times: a provider step with chaos() faults
 * (errors, latency, and scripted outages), cost recorded from its token usage with a price table,
 * `.retry().timeout().circuitBreaker().fallback()` onto a backup that fails now and then, and a
 * bounded answer cache in front.
 *
 * @example
 * ```ts
 * const chain = buildSoakChain({ seed: 1 });
 * const { output } = await chain.flow.runDetailed({ topic: 7, n: 1 }, { workflow: 'soak' });
 * ```
 */
export function buildSoakChain(options: { readonly seed: number; readonly faults?: FaultMix }): SoakChain {
  const faults = options.faults ?? DEFAULT_FAULTS;
  const prices = createPriceTable({ [SOAK_MODEL]: { input: 0.15, output: 0.6 } });
  const breaker = new CircuitBreaker({ name: 'soak.provider', threshold: 10, openMs: 25 });
  const chain: SoakChain = { flow: undefined as unknown as Primitive<Question, Answer>, breaker, outage: false };

  const provider = step('soak.provider', (q: Question, ctx): Answer => ({
    source: 'primary',
    text: `answer to topic ${q.topic}`,
    model: SOAK_MODEL,
    inputTokens: 20 + (q.topic % 50),
    outputTokens: 80 + (q.n % 100),
    runId: ctx.runId,
  }))
    .chaos({ enabled: () => chain.outage, fault: { rate: 1 } })
    .chaos({ enabled: true, seed: options.seed, fault: { rate: faults.errorRate }, latency: { rate: faults.latencyRate, ms: [1, 40] } })
    .cost({ extract: (a) => ({ model: a.model, inputTokens: a.inputTokens, outputTokens: a.outputTokens }), prices })
    .retry({ retries: 2, minDelay: 1, maxDelay: 4 })
    .timeout(25)
    .circuitBreaker(breaker);

  const backup = step('soak.backup', (q: Question, ctx): Answer => ({ source: 'fallback', text: `stale answer to topic ${q.topic}`, model: SOAK_MODEL, inputTokens: 0, outputTokens: 0, runId: ctx.runId })).chaos({
    enabled: true,
    seed: options.seed + 1,
    fault: { rate: faults.backupErrorRate },
  });

  const flow = provider.fallback(backup).cache({ namespace: 'soak.answers', ttlMs: 20, max: 500, key: (q) => String(q.topic) });
  (chain as { flow: Primitive<Question, Answer> }).flow = flow;
  return chain;
}

/** How one run ended. */
export type Outcome = 'success' | 'cached' | 'fallback' | 'typed_error' | 'untyped_error';

/** Classifies a settled run: served by the provider (fresh or cached), by the fallback, or a typed / untyped error. */
export function classify(result: { readonly ok: true; readonly output: Answer; readonly runId: string } | { readonly ok: false; readonly error: unknown }): Outcome {
  if (!result.ok) return isWeftError(result.error) ? 'typed_error' : 'untyped_error';
  if (result.output.source === 'fallback') return 'fallback';
  return result.output.runId === result.runId ? 'success' : 'cached';
}
