import { MAX_LATENCY_MS, type SimulatedErrorStatus } from '../provider-config.js';

/** Per-request overrides read from `x-sim-*` headers. */
export interface SimHeaders {
  /** From `x-sim-latency-ms`: replaces the provider's latency and jitter. */
  readonly latencyMs: number | undefined;
  /** From `x-sim-fail`: `true` fails with the provider's status, a number with that status, `false` forces success. */
  readonly fail: boolean | SimulatedErrorStatus | undefined;
  /** From `x-sim-token-latency-ms`: replaces the provider's delay between streamed tokens. */
  readonly tokenLatencyMs: number | undefined;
  /** From `x-sim-fail-after-tokens`: breaks a streamed answer off after this many tokens. */
  readonly failAfterTokens: number | undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Parses the `x-sim-*` headers; returns an error message when one is malformed. */
export function parseSimHeaders(headers: Record<string, string | string[] | undefined>): SimHeaders | string {
  const latencyRaw = single(headers['x-sim-latency-ms']);
  let latencyMs: number | undefined;
  if (latencyRaw !== undefined) {
    latencyMs = /^\d+$/.test(latencyRaw.trim()) ? Number(latencyRaw) : Number.NaN;
    if (!(latencyMs >= 0 && latencyMs <= MAX_LATENCY_MS)) return `Expected \`x-sim-latency-ms\` header to be an integer between 0 and ${MAX_LATENCY_MS}, got ${JSON.stringify(latencyRaw)}`;
  }
  const failRaw = single(headers['x-sim-fail']);
  let fail: SimHeaders['fail'];
  switch (failRaw?.trim().toLowerCase()) {
    case undefined:
      break;
    case '1':
    case 'true':
      fail = true;
      break;
    case '0':
    case 'false':
      fail = false;
      break;
    case '429':
    case '500':
    case '503':
      fail = Number(failRaw) as SimulatedErrorStatus;
      break;
    default:
      return `Expected \`x-sim-fail\` header to be one of 1, true, 0, false, 429, 500, 503, got ${JSON.stringify(failRaw)}`;
  }
  const tokenLatencyMs = intHeader(headers, 'x-sim-token-latency-ms', 60_000);
  if (typeof tokenLatencyMs === 'string') return tokenLatencyMs;
  const failAfterTokens = intHeader(headers, 'x-sim-fail-after-tokens', 1_000_000);
  if (typeof failAfterTokens === 'string') return failAfterTokens;
  return { latencyMs, fail, tokenLatencyMs, failAfterTokens };
}

/** An integer header between 0 and `max`; a string is the error message. */
function intHeader(headers: Record<string, string | string[] | undefined>, name: string, max: number): number | undefined | string {
  const raw = single(headers[name]);
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!(n >= 0 && n <= max)) return `Expected \`${name}\` header to be an integer between 0 and ${max}, got ${JSON.stringify(raw)}`;
  return n;
}
