import type { RunContext } from '../context/run-context.js';
import { RouteNotFoundError } from '../errors/route-not-found-error.js';
import { toError } from '../errors/non-error-thrown.js';
import type { RouteChosenEvent } from '../events/event-types.js';
import { abortReasonError, type Ctx } from '../internal/ctx.js';
import { emit, listening } from '../internal/emit.js';
import { isThenable } from '../internal/is-thenable.js';
import { fail, optionalFunction, optionalNumber, optionsObject, primitiveName } from '../internal/validate-options.js';
import { Primitive, type Exec } from '../primitive.js';

/** Why a route was chosen, as reported on the `route.chosen` event. */
export type RouteReason = RouteChosenEvent['reason'];

/**
 * Picks a route key. May be async; sees the input and the run's context. Returning `undefined`
 * (or, at run time, a key that is not a route) sends the call to the `default` route.
 */
export type RouteSelector<I, K extends string> = (input: I, ctx: RunContext) => K | undefined | Promise<K | undefined>;

/**
 * A built-in way of choosing a route, made by {@link byWeight} or {@link byCost}; pass it to
 * {@link route} in place of a selector function.
 */
export interface RouteStrategy<K extends string, I = unknown> {
  /** Reported on `route.chosen`. */
  readonly reason: 'weighted' | 'cost';
  /** The keys the strategy can choose; each must be a route. */
  readonly keys: ReadonlyArray<K>;
  /** @internal Chooses a key, or returns a {@link RouteMiss} explaining why none fits. */
  readonly choose: (input: I, ctx: RunContext) => K | RouteMiss;
}

/** @internal A strategy found no route; `message` says why. */
class RouteMiss {
  constructor(readonly message: string) {}
}

/** Options for {@link route}. */
export interface RouteOptions<I, O, K extends string> {
  /**
   * Where calls go when the selector returns `undefined` or an unknown key, or a strategy finds no
   * route: a route key or a primitive. Without it those calls reject with `RouteNotFoundError`.
   * @default undefined
   */
  readonly default?: K | Primitive<I, O>;
  /** The name for spans, events and metrics. @default `route:` and the keys joined with `|` */
  readonly name?: string;
  /**
   * Reported as the chosen route (on `route.chosen`, its span event and so its metric label) in
   * place of the key, for routes keyed by user data such as an API key's ID: such keys must never
   * become label values. A default route is still reported as the default.
   * @default the chosen key
   */
  readonly reportAs?: string;
}

/** Options for {@link byWeight}. */
export interface WeightedOptions<I = unknown> {
  /**
   * The random source: returns a number in [0, 1). Inject a seeded one ({@link seededRandom}) for
   * reproducible tests.
   * @default Math.random
   */
  readonly random?: () => number;
  /**
   * Makes the choice sticky: calls with the same key (a user or tenant ID) always take the same
   * route, as long as the weights stay the same. The key is hashed, never reported.
   * @default undefined (each call draws from `random`)
   */
  readonly sticky?: (input: I, ctx: RunContext) => string;
}

/** What a route costs and how well it performs; for {@link byCost}. */
export interface RouteMeta {
  /** Cost of one call, in any unit, the same for every route. */
  readonly cost: number;
  /** 95th percentile latency in ms. A route without it never meets a `maxLatencyMs` requirement. */
  readonly p95LatencyMs?: number;
  /** Quality score, e.g. 0..1. A route without it never meets a `minQuality` requirement. */
  readonly quality?: number;
}

/** What a call needs from its route; for {@link byCost}. */
export interface RouteRequirement {
  /** The route's `p95LatencyMs` must be at most this. */
  readonly maxLatencyMs?: number;
  /** The route's `quality` must be at least this. */
  readonly minQuality?: number;
}

/** Options for {@link byCost}. */
export interface CostOptions<I = unknown> {
  /**
   * What each call requires: static, or computed from the input and context.
   * @default {} (every route qualifies, so the cheapest wins)
   */
  readonly requirement?: RouteRequirement | ((input: I, ctx: RunContext) => RouteRequirement | undefined);
}

export type MetaSource<I> = RouteMeta | ((input: I, ctx: RunContext) => RouteMeta);

const NAME_LIMIT = 100;

/**
 * Sends each call to one of several interchangeable primitives, chosen by a selector function or
 * a strategy ({@link byWeight} for canaries, {@link byCost} for the cheapest route that is good
 * enough). An unknown key goes to `default`, or rejects with `RouteNotFoundError` listing the valid
 * keys. Each choice is reported as a `route.chosen` event with the key and why it was chosen.
 *
 * @example
 * ```ts
 * const answer = route((q: Query) => (q.premium ? 'large' : 'small'), { small: smallModel, large: largeModel });
 * const canary = route(byWeight({ stable: 90, canary: 10 }), { stable: v1, canary: v2 });
 * const rollout = route.weighted({ stable: [v1, 95], canary: [v2, 5] });
 * ```
 */
export function route<I, O, K extends string>(
  selector: RouteSelector<I, NoInfer<K>> | RouteStrategy<NoInfer<K>, I>,
  routes: Readonly<Record<K, Primitive<I, O>>>,
  options?: RouteOptions<I, O, NoInfer<K>>,
): Primitive<I, O> {
  const o = optionsObject('options', options, ['default', 'name', 'reportAs'], 'route');
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) fail('routes', 'a record of primitives', routes);
  const keys = Object.keys(routes) as K[];
  if (keys.length === 0) fail('routes', 'a record of at least one primitive', routes);
  // A Map, so that a selector returning "constructor" or "__proto__" cannot reach Object.prototype.
  const table = new Map<string, Exec<I, O>>();
  for (const k of keys) {
    const p: unknown = routes[k];
    if (!(p instanceof Primitive)) fail(`routes.${k}`, 'a primitive', p);
    table.set(k, (p as Primitive<I, O>).exec);
  }
  const name = o.name === undefined ? `route:${keys.join('|')}`.slice(0, NAME_LIMIT) : primitiveName('name', o.name);

  const reportAs = o.reportAs === undefined ? undefined : primitiveName('reportAs', o.reportAs);
  let defaultKey: string | undefined;
  let defaultExec: Exec<I, O> | undefined;
  const d = o.default;
  if (d instanceof Primitive) {
    defaultKey = 'default';
    defaultExec = (d as Primitive<I, O>).exec;
  } else if (d !== undefined) {
    if (typeof d !== 'string' || !table.has(d)) fail('default', `a route key (${keys.join(', ')}) or a primitive`, d);
    defaultKey = d;
    defaultExec = table.get(d);
  }

  let choose: (input: I, ctx: RunContext) => unknown;
  let reason: RouteReason;
  if (typeof selector === 'function') {
    choose = selector;
    reason = 'selector';
  } else if (isStrategy(selector)) {
    for (const k of selector.keys) {
      if (!table.has(k)) fail(`selector.keys`, `keys of routes (${keys.join(', ')})`, k);
    }
    choose = selector.choose;
    reason = selector.reason;
  } else {
    fail('selector', 'a function or a strategy from byWeight() / byCost()', selector);
  }

  const dispatch = (key: unknown, input: I, ctx: Ctx): Promise<O> => {
    let chosen = typeof key === 'string' ? table.get(key) : undefined;
    let why: RouteReason = reason;
    let label = reportAs ?? (key as string);
    if (chosen === undefined) {
      if (defaultExec === undefined) {
        if (key instanceof RouteMiss) return Promise.reject(notFound(key.message, keys));
        return Promise.reject(new RouteNotFoundError(String(key), keys));
      }
      chosen = defaultExec;
      why = 'default';
      label = defaultKey!;
    }
    if (listening()) emit(ctx, 'route', { type: 'route.chosen', step: name, route: label, reason: why });
    if (ctx.span) {
      try {
        ctx.span.addEvent('route.chosen', { 'weft.route': label, 'weft.route.reason': why, 'weft.router': name });
      } catch {
        // telemetry never breaks a workflow
      }
    }
    return chosen(input, ctx);
  };

  const exec: Exec<I, O> = (input, ctx) => {
    if (ctx.scope.aborted) return Promise.reject(abortReasonError(ctx.scope.reason));
    let key: unknown;
    try {
      key = choose(input, ctx);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    if (isThenable(key)) return Promise.resolve(key).then((k) => dispatch(k, input, ctx));
    return dispatch(key, input, ctx);
  };
  return new Primitive(name, 'route', exec);
}

/**
 * Canary routing: `route.weighted({ stable: [v1, 90], canary: [v2, 10] }, options)` is
 * `route(byWeight({ stable: 90, canary: 10 }, options), { stable: v1, canary: v2 }, options)`.
 *
 * @example
 * ```ts
 * const rollout = route.weighted({ stable: [v1, 95], canary: [v2, 5] }, { random: seededRandom(42) });
 * ```
 */
function weightedRoute<I, O, K extends string>(
  routes: Readonly<Record<K, readonly [Primitive<I, O>, number]>>,
  options?: WeightedOptions<I> & RouteOptions<I, O, NoInfer<K>>,
): Primitive<I, O> {
  const { primitives, second } = split<I, O, K, number>(routes, 'a [primitive, weight] pair');
  const o = optionsObject('options', options, ['random', 'sticky', 'default', 'name'], 'route.weighted');
  const { random, sticky, ...routeOptions } = o as WeightedOptions<I> & RouteOptions<I, O, K>;
  return route<I, O, K>(byWeight<K, I>(second, { ...(random === undefined ? {} : { random }), ...(sticky === undefined ? {} : { sticky }) }), primitives, routeOptions);
}

/**
 * Cost-aware routing: `route.cheapest({ small: [s, { cost: 1 }], large: [l, { cost: 9 }] }, options)`
 * is `route(byCost({ small: { cost: 1 }, large: { cost: 9 } }, options), { small: s, large: l }, options)`.
 *
 * @example
 * ```ts
 * const answer = route.cheapest(
 *   { small: [smallModel, { cost: 1, quality: 0.7 }], large: [largeModel, { cost: 12, quality: 0.95 }] },
 *   { requirement: (q: Query) => ({ minQuality: q.hard ? 0.9 : 0.5 }) },
 * );
 * ```
 */
function cheapestRoute<I, O, K extends string>(
  routes: Readonly<Record<K, readonly [Primitive<I, O>, MetaSource<I>]>>,
  options?: CostOptions<I> & RouteOptions<I, O, NoInfer<K>>,
): Primitive<I, O> {
  const { primitives, second } = split<I, O, K, MetaSource<I>>(routes, 'a [primitive, meta] pair');
  const o = optionsObject('options', options, ['requirement', 'default', 'name'], 'route.cheapest');
  const { requirement, ...routeOptions } = o as CostOptions<I> & RouteOptions<I, O, K>;
  return route<I, O, K>(byCost<K, I>(second, requirement === undefined ? {} : { requirement }), primitives, routeOptions);
}

route.weighted = weightedRoute;
route.cheapest = cheapestRoute;

function split<I, O, K extends string, T>(routes: Readonly<Record<K, readonly [Primitive<I, O>, T]>>, expected: string): { primitives: Record<K, Primitive<I, O>>; second: Record<K, T> } {
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) fail('routes', 'a record of [primitive, value] pairs', routes);
  const primitives = {} as Record<K, Primitive<I, O>>;
  const second = {} as Record<K, T>;
  for (const k of Object.keys(routes) as K[]) {
    const pair: unknown = routes[k];
    if (!Array.isArray(pair) || pair.length !== 2) fail(`routes.${k}`, expected, pair);
    primitives[k] = pair[0] as Primitive<I, O>;
    second[k] = pair[1] as T;
  }
  return { primitives, second };
}

/**
 * A weighted random strategy for {@link route}, for canaries and percentage rollouts. Weights are
 * relative (90/10 and 9/1 are the same); a weight of 0 switches a route off.
 *
 * @example
 * ```ts
 * const canary = route(byWeight({ stable: 90, canary: 10 }, { random: seededRandom(1) }), { stable: v1, canary: v2 });
 * ```
 */
export function byWeight<K extends string, I = unknown>(weights: Readonly<Record<K, number>>, options?: WeightedOptions<I>): RouteStrategy<K, I> {
  const o = optionsObject('options', options, ['random', 'sticky'], 'byWeight');
  const random = optionalFunction<() => number>('random', o.random) ?? Math.random;
  const sticky = optionalFunction<(input: I, ctx: RunContext) => string>('sticky', o.sticky);
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) fail('weights', 'a record of route weights', weights);
  const keys = Object.keys(weights) as K[];
  if (keys.length === 0) fail('weights', 'a record of at least one route weight', weights);
  const cumulative: number[] = [];
  let total = 0;
  for (const k of keys) {
    total += optionalNumber(`weights.${k}`, weights[k], { min: 0 }) ?? fail(`weights.${k}`, 'a number >= 0', undefined);
    cumulative.push(total);
  }
  if (!(total > 0) || !Number.isFinite(total)) fail('weights', 'weights with a positive, finite sum', weights);
  const last = keys.length - 1;

  const pick = (r: number): K => {
    const target = r * total;
    for (let i = 0; i < last; i++) if (target < cumulative[i]!) return keys[i]!;
    // The last route with a positive weight (trailing zero weights are never chosen).
    for (let i = last; i > 0; i--) if (cumulative[i]! > cumulative[i - 1]!) return keys[i]!;
    return keys[0]!;
  };
  const choose = (input: I, ctx: RunContext): K => {
    let r: number;
    if (sticky) {
      const id = sticky(input, ctx);
      if (typeof id !== 'string') fail('sticky', 'a function returning a string', id);
      r = fnv1a(id) / 4_294_967_296;
    } else {
      r = random();
      if (!(r >= 0 && r < 1)) fail('random', 'a function returning a number in [0, 1)', r);
    }
    return pick(r);
  };
  return Object.freeze({ reason: 'weighted' as const, keys: Object.freeze(keys), choose });
}

/**
 * A cost-aware strategy for {@link route}: the cheapest route whose metadata meets the call's
 * requirement (`p95LatencyMs <= maxLatencyMs`, `quality >= minQuality`). Ties go to the route
 * listed first. Metadata may be static or a function, so live latency figures can feed it. When no
 * route qualifies the call goes to `default`, or rejects with `RouteNotFoundError` saying what was
 * required and what each route offered.
 *
 * @example
 * ```ts
 * const answer = route(
 *   byCost({ small: { cost: 1, quality: 0.7 }, large: { cost: 12, quality: 0.95 } }, { requirement: { minQuality: 0.9 } }),
 *   { small: smallModel, large: largeModel },
 * );
 * ```
 */
export function byCost<K extends string, I = unknown>(meta: Readonly<Record<K, MetaSource<I>>>, options?: CostOptions<I>): RouteStrategy<K, I> {
  const o = optionsObject('options', options, ['requirement'], 'byCost');
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail('meta', 'a record of route metadata', meta);
  const keys = Object.keys(meta) as K[];
  if (keys.length === 0) fail('meta', 'a record of at least one route', meta);
  const sources = keys.map((k) => {
    const m: unknown = meta[k];
    if (typeof m === 'function') return m as (input: I, ctx: RunContext) => RouteMeta;
    return checkMeta(`meta.${k}`, m);
  });
  const req = o.requirement;
  let staticRequirement: RouteRequirement | undefined;
  let requirementFn: ((input: I, ctx: RunContext) => RouteRequirement | undefined) | undefined;
  if (typeof req === 'function') requirementFn = req as (input: I, ctx: RunContext) => RouteRequirement | undefined;
  else staticRequirement = checkRequirement('requirement', req);

  const choose = (input: I, ctx: RunContext): K | RouteMiss => {
    const need = requirementFn ? checkRequirement('requirement', requirementFn(input, ctx)) : staticRequirement!;
    const maxLatency = need.maxLatencyMs;
    const minQuality = need.minQuality;
    let best = -1;
    let bestCost = Infinity;
    let metas: RouteMeta[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const s = sources[i]!;
      const m = typeof s === 'function' ? checkMeta(`meta.${keys[i]!}`, s(input, ctx)) : s;
      (metas ??= []).push(m);
      if (maxLatency !== undefined && !(m.p95LatencyMs !== undefined && m.p95LatencyMs <= maxLatency)) continue;
      if (minQuality !== undefined && !(m.quality !== undefined && m.quality >= minQuality)) continue;
      if (m.cost < bestCost) {
        best = i;
        bestCost = m.cost;
      }
    }
    if (best >= 0) return keys[best]!;
    return new RouteMiss(describeMiss(need, keys, metas ?? []));
  };
  return Object.freeze({ reason: 'cost' as const, keys: Object.freeze(keys), choose });
}

function checkMeta(option: string, value: unknown): RouteMeta {
  if (typeof value !== 'object' || value === null) fail(option, 'route metadata { cost, p95LatencyMs?, quality? }', value);
  const m = value as Record<string, unknown>;
  const cost = optionalNumber(`${option}.cost`, m.cost, { min: 0 });
  if (cost === undefined) fail(`${option}.cost`, 'a number >= 0', m.cost);
  optionalNumber(`${option}.p95LatencyMs`, m.p95LatencyMs, { min: 0 });
  optionalNumber(`${option}.quality`, m.quality);
  return value as RouteMeta;
}

const NO_REQUIREMENT: RouteRequirement = Object.freeze({});

function checkRequirement(option: string, value: unknown): RouteRequirement {
  if (value === undefined) return NO_REQUIREMENT;
  if (typeof value !== 'object' || value === null) fail(option, 'a requirement { maxLatencyMs?, minQuality? } or a function returning one', value);
  const r = value as Record<string, unknown>;
  optionalNumber(`${option}.maxLatencyMs`, r.maxLatencyMs, { min: 0 });
  optionalNumber(`${option}.minQuality`, r.minQuality);
  return value;
}

function describeMiss(need: RouteRequirement, keys: ReadonlyArray<string>, metas: ReadonlyArray<RouteMeta>): string {
  const wanted: string[] = [];
  if (need.maxLatencyMs !== undefined) wanted.push(`p95LatencyMs <= ${need.maxLatencyMs}`);
  if (need.minQuality !== undefined) wanted.push(`quality >= ${need.minQuality}`);
  const offered = keys.map((k, i) => {
    const m = metas[i];
    if (!m) return k;
    const parts = [`cost ${m.cost}`];
    parts.push(m.p95LatencyMs === undefined ? 'p95LatencyMs unknown' : `p95LatencyMs ${m.p95LatencyMs}`);
    parts.push(m.quality === undefined ? 'quality unknown' : `quality ${m.quality}`);
    return `${k} (${parts.join(', ')})`;
  });
  return `No route meets the requirement ${wanted.join(' and ')}; routes: ${offered.join('; ')}`;
}

function notFound(message: string, keys: ReadonlyArray<string>): RouteNotFoundError {
  const error = new RouteNotFoundError('', keys);
  // RouteNotFoundError's constructor speaks of an unknown key; a cost miss needs its own message.
  error.message = message;
  Error.captureStackTrace?.(error, notFound);
  return error;
}

function isStrategy(value: unknown): value is RouteStrategy<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<RouteStrategy<string, unknown>>;
  return (s.reason === 'weighted' || s.reason === 'cost') && Array.isArray(s.keys) && typeof s.choose === 'function';
}

/** 32-bit FNV-1a: a tiny stable hash for sticky weighted routing. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

