import { z } from 'zod';
import { formatZodError } from './internal/format-zod-error.js';

/** The HTTP status an injected failure answers with. 429 also carries `Retry-After`. */
export type SimulatedErrorStatus = 429 | 500 | 503;

/** How one simulated provider behaves. Settable at start-up, through the admin endpoint and {@link SimulatedProviders.configure}. */
export interface ProviderBehaviour {
  /**
   * Delay before a chat completion is answered, in milliseconds.
   * @default 0
   */
  readonly latencyMs: number;
  /**
   * Extra delay added to `latencyMs`, drawn uniformly from `[0, jitterMs)` with the seeded PRNG.
   * @default 0
   */
  readonly jitterMs: number;
  /**
   * Probability, from 0 to 1, that a chat completion fails with `errorStatus` (seeded, so reproducible).
   * @default 0
   */
  readonly errorRate: number;
  /**
   * Status of injected failures: 500, 503, or 429 (which carries `Retry-After`).
   * @default 503
   */
  readonly errorStatus: SimulatedErrorStatus;
  /**
   * Seconds sent in `Retry-After` with a 429.
   * @default 1
   */
  readonly retryAfterSeconds: number;
  /**
   * When true, every request to the provider (except the server's own `/health`) gets 503 at once.
   * @default false
   */
  readonly down: boolean;
  /**
   * Delay between two tokens of a streamed answer (`stream: true`), in milliseconds.
   * @default 0
   */
  readonly tokenLatencyMs: number;
  /**
   * A streamed answer breaks off (the connection is dropped) after this many tokens; -1 never.
   * @default -1
   */
  readonly failAfterTokens: number;
}

/** What one provider has served so far (chat completions only), for load scripts and tests. */
export interface ProviderStats {
  /** Chat completion requests that named this provider, whatever became of them. */
  readonly received: number;
  /** Chat completions being answered right now (most of them waiting out their latency). */
  readonly inFlight: number;
  /** Chat completions whose client disconnected before the answer. */
  readonly disconnected: number;
  /** Answers sent, by HTTP status, e.g. `{ '200': 41, '503': 9 }`. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Streamed answers whose client went away before the last token: proof that an abort reached the provider. */
  readonly streamsCancelled: number;
}

/** Start-up options of one provider: its behaviour, plus what cannot change at run time. */
export interface ProviderOptions extends Partial<ProviderBehaviour> {
  /**
   * When set, requests must send `Authorization: Bearer <apiKey>`; others get 401.
   * @default the top-level `apiKey`, else no auth
   */
  readonly apiKey?: string;
  /**
   * Model ids listed by `GET /v1/models`. Chat completions accept any model and echo it back.
   * @default [`${name}-chat`]
   */
  readonly models?: readonly string[];
}

/** Defaults of {@link ProviderBehaviour}. */
export const BEHAVIOUR_DEFAULTS = {
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  errorStatus: 503,
  retryAfterSeconds: 1,
  down: false,
  tokenLatencyMs: 0,
  failAfterTokens: -1,
} as const satisfies Required<ProviderBehaviour>;

/** The longest latency or jitter accepted: five minutes, long enough to outlast any client timeout. */
export const MAX_LATENCY_MS = 300_000;

function integerBetween(min: number, max: number) {
  const error = `to be an integer between ${min} and ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const nonEmptyString = z.string({ error: 'to be a non-empty string' }).min(1, { error: 'to be a non-empty string' });

/** One zod schema per behaviour field; `options-from-env` reuses them to name the variable. */
export const behaviourFields = {
  latencyMs: integerBetween(0, MAX_LATENCY_MS),
  jitterMs: integerBetween(0, MAX_LATENCY_MS),
  errorRate: z
    .number({ error: 'to be a number between 0 and 1' })
    .min(0, { error: 'to be a number between 0 and 1' })
    .max(1, { error: 'to be a number between 0 and 1' }),
  errorStatus: z.literal([429, 500, 503], { error: 'to be one of 429, 500, 503' }),
  retryAfterSeconds: integerBetween(0, 86_400),
  down: z.boolean({ error: 'to be a boolean' }),
  tokenLatencyMs: integerBetween(0, 60_000),
  failAfterTokens: integerBetween(-1, 1_000_000),
} as const;

/** A partial behaviour: what `PUT /admin/providers/:name` and `configure()` accept. Unknown keys are rejected, so typos fail loudly. */
export const behaviourPatchSchema = z.strictObject(
  {
    latencyMs: behaviourFields.latencyMs.optional(),
    jitterMs: behaviourFields.jitterMs.optional(),
    errorRate: behaviourFields.errorRate.optional(),
    errorStatus: behaviourFields.errorStatus.optional(),
    retryAfterSeconds: behaviourFields.retryAfterSeconds.optional(),
    down: behaviourFields.down.optional(),
    tokenLatencyMs: behaviourFields.tokenLatencyMs.optional(),
    failAfterTokens: behaviourFields.failAfterTokens.optional(),
  },
  { error: 'to be an object' },
);

/** Provider names become URL path segments and env-variable infixes, so they are short and plain. */
export const providerNameSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, { error: 'to be 1-32 lowercase letters, digits or inner dashes' });

const providerOptionsSchema = behaviourPatchSchema.extend({
  apiKey: nonEmptyString.optional(),
  models: z.array(nonEmptyString, { error: 'to be an array of model ids' }).min(1, { error: 'to be a non-empty array of model ids' }).optional(),
});

/** Schema of the options of `startSimulatedProviders`. */
export const startOptionsSchema = z.strictObject(
  {
    port: integerBetween(0, 65_535).optional(),
    host: nonEmptyString.optional(),
    seed: z.int({ error: 'to be a safe integer' }).optional(),
    apiKey: nonEmptyString.optional(),
    logger: z.boolean({ error: 'to be a boolean' }).optional(),
    providers: z
      .record(providerNameSchema, providerOptionsSchema, { error: 'to be an object of provider options keyed by name' })
      .refine((providers) => Object.keys(providers).length > 0, { error: 'to name at least one provider' })
      .optional(),
  },
  { error: 'to be an options object' },
);

/** Validates a behaviour patch; bad input throws a TypeError naming the field. */
export function parseBehaviourPatch(patch: unknown, root = 'patch'): Partial<ProviderBehaviour> {
  const parsed = behaviourPatchSchema.safeParse(patch, { reportInput: true });
  if (!parsed.success) throw new TypeError(formatZodError(parsed.error, root));
  return parsed.data;
}
