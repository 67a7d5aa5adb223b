import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription } from 'rxjs';
import { step } from '../step/step.js';
import { events } from '../events/event-stream.js';
import type { EventOf } from '../events/event-types.js';
import { isRouteNotFoundError, RouteNotFoundError } from '../errors/route-not-found-error.js';
import { isAbortedError } from '../errors/aborted-error.js';
import { seededRandom } from '../internal/seeded-random.js';
import { byCost, byWeight, route } from './route.js';

const tag = (label: string) => step(label, (n: number) => `${label}:${n}`);
const stable = tag('stable');
/** A selector returning a key the types do not allow, as data-driven selectors can at run time. */
const unknownKey = (key: string) => () => key as 'stable';
const canary = tag('canary');

let subscription: Subscription | undefined;
afterEach(() => {
  subscription?.unsubscribe();
  subscription = undefined;
});
function chosenEvents(): EventOf<'route.chosen'>[] {
  const seen: EventOf<'route.chosen'>[] = [];
  subscription = events.subscribe((e) => {
    if (e.type === 'route.chosen') seen.push(e);
  });
  return seen;
}

describe('route with a selector', () => {
  it('sends each call to the route the selector names', async () => {
    const r = route((n: number) => (n > 10 ? 'canary' : 'stable'), { stable, canary });
    expect(await r.run(1)).toBe('stable:1');
    expect(await r.run(11)).toBe('canary:11');
  });

  it('awaits an async selector that reads the context', async () => {
    const r = route(
      async (_: number, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return ctx.attributes.tier === 'beta' ? 'canary' : 'stable';
      },
      { stable, canary },
    );
    expect(await r.run(2, { attributes: { tier: 'beta' } })).toBe('canary:2');
    expect(await r.run(2, { attributes: { tier: 'ga' } })).toBe('stable:2');
  });

  it('reports reportAs instead of a key that is user data, so keys never become labels', async () => {
    const seen = chosenEvents();
    const r = route((who: number) => (who === 2 ? 'key-91bc' : 'key-7f3a'), { 'key-7f3a': stable, 'key-91bc': canary }, { name: 'per_key', reportAs: 'api_key' });
    expect(await r.run(2)).toBe('canary:2');
    expect(seen.map((e) => e.route)).toEqual(['api_key']);
    expect(() => route((_: number) => 'a' as const, { a: stable }, { reportAs: '' })).toThrow(/`reportAs`/);
  });

  it('rejects an unknown key with RouteNotFoundError listing the valid keys', async () => {
    const r = route(unknownKey('blue'), { stable, canary });
    const error = await r.run(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouteNotFoundError);
    expect(isRouteNotFoundError(error)).toBe(true);
    expect((error as RouteNotFoundError).validKeys).toEqual(['stable', 'canary']);
    expect((error as Error).message).toBe('No route for key "blue"; valid keys: stable, canary');
  });

  it('never echoes more than a truncated key', async () => {
    const huge = 'x'.repeat(10_000);
    const r = route(unknownKey(huge), { stable });
    const error = (await r.run(1).catch((e: unknown) => e)) as Error;
    expect(error.message.length).toBeLessThan(120);
    expect(error.message).not.toContain(huge.slice(0, 65));
  });

  it('does not treat Object.prototype names as routes', async () => {
    const r = route(unknownKey('constructor'), { stable });
    await expect(r.run(1)).rejects.toThrow(RouteNotFoundError);
  });

  it('sends unknown keys and undefined to the default, by key or primitive, and reports why', async () => {
    const seen = chosenEvents();
    const byKey = route((n: number) => (n === 0 ? undefined : ('nope' as 'canary')), { stable, canary }, { default: 'stable', name: 'router' });
    expect(await byKey.run(0)).toBe('stable:0');
    expect(await byKey.run(1)).toBe('stable:1');
    const byPrimitive = route(() => undefined, { canary }, { default: tag('fallback') });
    expect(await byPrimitive.run(3)).toBe('fallback:3');
    expect(seen.map((e) => [e.route, e.reason])).toEqual([
      ['stable', 'default'],
      ['stable', 'default'],
      ['default', 'default'],
    ]);
    expect(seen[0]?.step).toBe('router');
    expect(seen[0]?.primitive).toBe('route');
  });

  it('reports the selector choice on route.chosen', async () => {
    const seen = chosenEvents();
    await route(() => 'canary' as const, { stable, canary }).run(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'route.chosen', route: 'canary', reason: 'selector', step: 'route:stable|canary' });
  });

  it('rejects when the selector throws, wrapping non-errors', async () => {
    const r = route(
      (): 'stable' => {
        throw 'bad selector';
      },
      { stable },
    );
    await expect(r.run(1)).rejects.toThrow('bad selector');
    const async = route(() => Promise.reject(new Error('async bad')), { stable });
    await expect(async.run(1)).rejects.toThrow('async bad');
  });

  it('does not start a route when the run is already aborted', async () => {
    let ran = false;
    const r = route(() => 'stable' as const, { stable: step('s', () => (ran = true)) });
    const controller = new AbortController();
    controller.abort();
    const error = await r.run(undefined, { signal: controller.signal }).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(ran).toBe(false);
  });
});

describe('weighted routing', () => {
  it('splits 10,000 seeded calls 90/10 within 1.5 points', async () => {
    const r = route(byWeight({ stable: 90, canary: 10 }, { random: seededRandom(20240601) }), { stable, canary });
    let canaries = 0;
    for (let i = 0; i < 10_000; i++) if ((await r.run(i)).startsWith('canary')) canaries++;
    expect(canaries / 10_000).toBeGreaterThan(0.085);
    expect(canaries / 10_000).toBeLessThan(0.115);
  });

  it('honours three-way weights with the route.weighted shorthand', async () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const r = route.weighted({ a: [tag('a'), 1], b: [tag('b'), 2], c: [tag('c'), 7] }, { random: seededRandom(7), name: 'three_way' });
    expect(r.name).toBe('three_way');
    for (let i = 0; i < 10_000; i++) {
      const out = await r.run(i);
      counts[out.split(':')[0]!]!++;
    }
    expect(counts.a! / 10_000).toBeCloseTo(0.1, 1);
    expect(counts.b! / 10_000).toBeCloseTo(0.2, 1);
    expect(counts.c! / 10_000).toBeCloseTo(0.7, 1);
  });

  it('is reproducible with the same seed', async () => {
    const draw = async (seed: number) => {
      const r = route(byWeight({ stable: 50, canary: 50 }, { random: seededRandom(seed) }), { stable, canary });
      const out: string[] = [];
      for (let i = 0; i < 50; i++) out.push(await r.run(i));
      return out;
    };
    expect(await draw(3)).toEqual(await draw(3));
    expect(await draw(3)).not.toEqual(await draw(4));
  });

  it('never chooses a route weighted 0, even at the edges of the random range', async () => {
    const values = [0, 0.5, 0.999999999];
    let i = 0;
    const r = route(byWeight({ off: 0, stable: 1, last: 0 }, { random: () => values[i++ % values.length]! }), { off: tag('off'), stable, last: tag('last') });
    for (let k = 0; k < values.length; k++) expect(await r.run(k)).toBe(`stable:${k}`);
  });

  it('keeps a sticky key on the same route', async () => {
    const r = route(byWeight({ stable: 50, canary: 50 }, { sticky: (_: number, ctx) => String(ctx.attributes.user) }), { stable, canary });
    const first = (await r.run(1, { attributes: { user: 'ada' } })).split(':')[0];
    for (let i = 0; i < 20; i++) expect((await r.run(1, { attributes: { user: 'ada' } })).split(':')[0]).toBe(first);
  });

  it('reports weighted choices on route.chosen', async () => {
    const seen = chosenEvents();
    await route(byWeight({ canary: 1 }), { stable, canary }).run(1);
    expect(seen[0]).toMatchObject({ route: 'canary', reason: 'weighted' });
  });

  it('rejects a random source that leaves [0, 1) with a TypeError naming `random`', async () => {
    const r = route(byWeight({ stable: 1 }, { random: () => 1 }), { stable });
    await expect(r.run(1)).rejects.toThrow(/`random`/);
  });
});

describe('cost-aware routing', () => {
  const small = tag('small');
  const medium = tag('medium');
  const large = tag('large');
  const meta = {
    small: { cost: 1, p95LatencyMs: 300, quality: 0.6 },
    medium: { cost: 4, p95LatencyMs: 800, quality: 0.85 },
    large: { cost: 10, p95LatencyMs: 2_000, quality: 0.95 },
  };

  it('picks the cheapest route that meets the requirement', async () => {
    const r = route(byCost(meta, { requirement: (q: number) => ({ minQuality: q / 100 }) }), { small, medium, large });
    expect(await r.run(50)).toBe('small:50');
    expect(await r.run(80)).toBe('medium:80');
    expect(await r.run(90)).toBe('large:90');
  });

  it('combines latency and quality floors, and prefers the first route on a tie', async () => {
    const r = route.cheapest(
      { slow: [tag('slow'), { cost: 2, p95LatencyMs: 900, quality: 0.9 }], fast: [tag('fast'), { cost: 2, p95LatencyMs: 100, quality: 0.9 }], pricey: [tag('pricey'), { cost: 9, p95LatencyMs: 50, quality: 0.99 }] },
      { requirement: { maxLatencyMs: 1_000, minQuality: 0.8 } },
    );
    expect(await r.run(1)).toBe('slow:1');
    const tight = route.cheapest(
      { slow: [tag('slow'), { cost: 2, p95LatencyMs: 900 }], fast: [tag('fast'), { cost: 3, p95LatencyMs: 100 }] },
      { requirement: { maxLatencyMs: 200 } },
    );
    expect(await tight.run(1)).toBe('fast:1');
  });

  it('reads live metadata from a function', async () => {
    let p95 = 100;
    const r = route(byCost({ small: () => ({ cost: 1, p95LatencyMs: p95 }), large: { cost: 5, p95LatencyMs: 150 } }, { requirement: { maxLatencyMs: 200 } }), { small, large });
    expect(await r.run(1)).toBe('small:1');
    p95 = 500;
    expect(await r.run(2)).toBe('large:2');
  });

  it('treats a route without the measured figure as not qualifying', async () => {
    const r = route(byCost({ small: { cost: 1 }, large: { cost: 5, quality: 0.9 } }, { requirement: { minQuality: 0.5 } }), { small, large });
    expect(await r.run(1)).toBe('large:1');
  });

  it('falls back to the default when nothing qualifies, reporting why', async () => {
    const seen = chosenEvents();
    const r = route(byCost(meta, { requirement: { maxLatencyMs: 10 } }), { small, medium, large }, { default: 'small' });
    expect(await r.run(1)).toBe('small:1');
    expect(seen.map((e) => e.reason)).toEqual(['default']);
    await route(byCost(meta), { small, medium, large }).run(1);
    expect(seen.map((e) => [e.route, e.reason])).toEqual([
      ['small', 'default'],
      ['small', 'cost'],
    ]);
  });

  it('rejects with a RouteNotFoundError explaining the requirement when nothing qualifies', async () => {
    const r = route(byCost(meta, { requirement: { maxLatencyMs: 200, minQuality: 0.9 } }), { small, medium, large });
    const error = await r.run(1).catch((e: unknown) => e);
    expect(isRouteNotFoundError(error)).toBe(true);
    expect((error as RouteNotFoundError).validKeys).toEqual(['small', 'medium', 'large']);
    expect((error as Error).message).toBe(
      'No route meets the requirement p95LatencyMs <= 200 and quality >= 0.9; routes: small (cost 1, p95LatencyMs 300, quality 0.6); medium (cost 4, p95LatencyMs 800, quality 0.85); large (cost 10, p95LatencyMs 2000, quality 0.95)',
    );
    expect((error as Error).stack).toContain('No route meets the requirement');
  });

  it('rejects bad live metadata with a TypeError naming the route', async () => {
    const r = route(byCost({ small: () => ({ cost: -1 }) }), { small });
    await expect(r.run(1)).rejects.toThrow(/`meta\.small\.cost`/);
  });
});

describe('route options', () => {
  it('throws TypeErrors naming the bad option', () => {
    const pick = () => 'stable' as const;
    const noRoutes: Record<string, never> = {};
    expect(() => route(pick, noRoutes)).toThrow(/`routes`/);
    expect(() => route(pick, { stable: {} as never })).toThrow(/`routes\.stable`/);
    expect(() => route(42 as never, { stable })).toThrow(/`selector`/);
    expect(() => route(pick, { stable }, { default: 'nope' as never })).toThrow(/`default`/);
    expect(() => route(pick, { stable }, { name: 'has spaces' })).toThrow(/`name`/);
    expect(() => route(pick, { stable }, 'x' as never)).toThrow(/`options`/);
    expect(() => route(byWeight({ blue: 1 }) as never, { stable })).toThrow(/`selector\.keys`/);
    expect(() => byWeight({ stable: -1 })).toThrow(/`weights\.stable`/);
    expect(() => byWeight({ stable: 0 })).toThrow(/`weights`/);
    expect(() => byWeight({})).toThrow(/`weights`/);
    expect(() => byWeight({ stable: 1 }, { random: 0.5 as never })).toThrow(/`random`/);
    expect(() => byWeight({ stable: 1 }, { sticky: 'user' as never })).toThrow(/`sticky`/);
    expect(() => byCost({ small: { cost: 'cheap' as never } })).toThrow(/`meta\.small\.cost`/);
    expect(() => byCost({ small: { cost: 1, p95LatencyMs: -5 } })).toThrow(/`meta\.small\.p95LatencyMs`/);
    expect(() => byCost({ small: { cost: 1 } }, { requirement: { maxLatencyMs: 'soon' as never } })).toThrow(/`requirement\.maxLatencyMs`/);
    expect(() => route.weighted({ stable: stable as never })).toThrow(/`routes\.stable`/);
    expect(() => seededRandom(Number.NaN)).toThrow(/`seed`/);
  });
});
