import { WeftError, brandOf } from './weft-error.js';

/**
 * The router's selector chose a key with no route and there is no default.
 *
 * @example
 * ```ts
 * catch (e) { if (isRouteNotFoundError(e)) console.log(e.validKeys) }
 * ```
 */
export class RouteNotFoundError extends WeftError {
  override name = 'RouteNotFoundError';
  readonly validKeys: ReadonlyArray<string>;
  constructor(key: string, validKeys: ReadonlyArray<string>) {
    super(`No route for key ${JSON.stringify(String(key).slice(0, 64))}; valid keys: ${validKeys.join(', ')}`, { code: 'ROUTE_NOT_FOUND' });
    this.validKeys = validKeys;
  }
}

/** True when the value is a {@link RouteNotFoundError} from any copy of Weft. */
export function isRouteNotFoundError(value: unknown): value is RouteNotFoundError {
  return brandOf(value) === 'ROUTE_NOT_FOUND';
}
