import { createHash, timingSafeEqual } from 'node:crypto';
import { BEHAVIOUR_DEFAULTS, type ProviderBehaviour, type ProviderStats } from '../provider-config.js';
import { fnv1a32 } from './hash.js';
import { seededRandom } from '@weft/core';

/** What the seeded streams decided for one chat completion. */
export interface Draw {
  /** 1 for the provider's first chat completion, 2 for the next, ... */
  readonly sequence: number;
  /** Whether the completion fails with `errorStatus` (before any `x-sim-fail` override). */
  readonly fails: boolean;
  /** Jitter in milliseconds, in `[0, jitterMs)`. */
  readonly jitterMs: number;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Removes keys whose value is undefined, so a patch never erases a setting. */
function defined<T extends object>(patch: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(patch) as (keyof T)[]) if (patch[key] !== undefined) out[key] = patch[key];
  return out;
}

/**
 * One provider's mutable state. Faults and jitter come from two separate seeded streams derived
 * from the seed and the provider's name, so a provider's k-th completion meets the same fate in
 * every run with the same seed, whatever other providers or its own jitter setting do.
 */
export class ProviderState {
  readonly name: string;
  readonly models: readonly string[];
  #behaviour: Readonly<ProviderBehaviour>;
  readonly #keyDigest: Buffer | undefined;
  readonly #faults: () => number;
  readonly #jitter: () => number;
  #sequence = 0;
  #received = 0;
  #inFlight = 0;
  #disconnected = 0;
  readonly #byStatus: Record<string, number> = {};

  constructor(name: string, behaviour: Partial<ProviderBehaviour>, seed: number, apiKey: string | undefined, models: readonly string[] | undefined) {
    this.name = name;
    this.models = Object.freeze([...(models ?? [`${name}-chat`])]);
    this.#behaviour = Object.freeze({ ...BEHAVIOUR_DEFAULTS, ...defined(behaviour) });
    this.#keyDigest = apiKey === undefined ? undefined : digest(apiKey);
    this.#faults = seededRandom(fnv1a32(`${seed}:${name}:faults`));
    this.#jitter = seededRandom(fnv1a32(`${seed}:${name}:jitter`));
  }

  get behaviour(): Readonly<ProviderBehaviour> {
    return this.#behaviour;
  }

  get requiresAuth(): boolean {
    return this.#keyDigest !== undefined;
  }

  configure(patch: Partial<ProviderBehaviour>): Readonly<ProviderBehaviour> {
    this.#behaviour = Object.freeze({ ...this.#behaviour, ...defined(patch) });
    return this.#behaviour;
  }

  /** Draws exactly one number from each stream, whatever the request's headers say, to keep runs reproducible. */
  draw(): Draw {
    const { errorRate, jitterMs } = this.#behaviour;
    const fault = this.#faults();
    const jitter = this.#jitter();
    this.#sequence += 1;
    return { sequence: this.#sequence, fails: fault < errorRate, jitterMs: Math.floor(jitter * jitterMs) };
  }

  /** Counts a chat completion that reached this provider; pair it with {@link finish}. */
  start(): void {
    this.#received += 1;
    this.#inFlight += 1;
  }

  /** Counts how a chat completion ended: the status sent, or `'disconnected'` when the client left first. */
  finish(outcome: number | 'disconnected'): void {
    this.#inFlight -= 1;
    if (outcome === 'disconnected') this.#disconnected += 1;
    else this.#byStatus[outcome] = (this.#byStatus[outcome] ?? 0) + 1;
  }

  #streamsCancelled = 0;

  /** Counts a streamed answer whose client left before its last token. */
  streamCancelled(): void {
    this.#streamsCancelled += 1;
  }

  get stats(): ProviderStats {
    return { received: this.#received, inFlight: this.#inFlight, disconnected: this.#disconnected, byStatus: { ...this.#byStatus }, streamsCancelled: this.#streamsCancelled };
  }

  /** Checks an `Authorization` header against the key, in constant time. */
  authorise(header: string | undefined): 'ok' | 'missing' | 'wrong' {
    if (this.#keyDigest === undefined) return 'ok';
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null || match[1] === undefined) return 'missing';
    return timingSafeEqual(digest(match[1]), this.#keyDigest) ? 'ok' : 'wrong';
  }
}
