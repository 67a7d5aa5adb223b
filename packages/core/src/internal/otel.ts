import type * as OtelApi from '@opentelemetry/api';
import { createRequire } from 'node:module';

type Api = typeof OtelApi;

/** Where every copy of `@opentelemetry/api` 1.x keeps what was registered (tracer provider, context manager, propagator). */
const GLOBAL = Symbol.for('opentelemetry.js.api.1');
const load = createRequire(import.meta.url);
let api: Api | undefined;
let missing = false;

/**
 * The OpenTelemetry API, loaded on first need: once anything (an SDK, a context manager) has been
 * registered through any copy of `@opentelemetry/api`. Until then it stays unloaded, and runs
 * behave exactly as under the API's no-op defaults (no spans, the root context), so importing
 * `@weft/core` does not pay the API's start-up cost in a service that does not trace.
 */
export function otelApi(): Api | undefined {
  if (api !== undefined || missing) return api;
  if ((globalThis as Record<symbol, unknown>)[GLOBAL] === undefined) return undefined;
  try {
    api = load('@opentelemetry/api') as Api;
  } catch {
    // Not installed beside @weft/core (it is a peer dependency): run untraced rather than fail.
    missing = true;
  }
  return api;
}
