/**
 * The proof: a real Prometheus scrapes only the real gateway and the real orders service every
 * second, loads the rule files and evaluates them every second, while the test drives an incident:
 * load, a provider outage, a budget burn, a latency spike on the premium provider, an overload
 * burst, orders with a declined card, a brownout of every provider, an outage of every provider, the
 * gateway's Redis killed and restarted, compensations failing, a queue backlog, and the orders
 * service killed. Every query of every panel of every checked-in dashboard must return data, every
 * shipped alert must fire, and every series the alerts' promtool tests feed must exist in the real
 * scrape (so those tests are not about invented series).
 *
 * The rules Prometheus loads are generated from the shipped config with two test overrides, so the
 * test runs in about two minutes: every `for:` is 0s, and the cost-burn window is 30s instead of 1h
 * (a rate over 1h divides by the hour, so 2 minutes of data cannot show the real burn).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, hasBinary } from '@weft/test-support';
import { alertSpecs } from './alerts/alerts.js';
import { CONFIG, type MonitoringConfig } from './config.js';
import { dashboardSpecs } from './dashboards/index.js';
import { PATHS } from './generate.js';
import { BATCH_KEY, IncidentStack, KEY, PROVIDERS, sleep, TIGHT_KEY, UNDELIVERABLE_POSTCODE } from './incident/stack.js';
import { SERVICE_METRICS } from './promql.js';
import { expandVariables, queriesOfJson, type DashboardJson, type PanelQuery } from './test-support/panel-queries.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The shipped config with the test's two overrides. */
const testConfig: MonitoringConfig = {
  ...CONFIG,
  windows: { ...CONFIG.windows, cost: '30s' },
  alerts: Object.fromEntries(Object.entries(CONFIG.alerts).map(([k]) => [k, { for: '0s' }])) as unknown as MonitoringConfig['alerts'],
};

describeWith("prometheus and redis-server on the PATH (Debian's prometheus and redis-server packages; .ci/run installs them)", 'end to end: a real Prometheus scraping the real gateway and orders service', hasBinary('prometheus') && hasBinary('redis-server'), () => {
  let stack: IncidentStack;
  const firing = new Map<string, Array<Record<string, string>>>();
  const answer = (key: string, question: string, tier: string) => stack.answer(key, question, tier);
  const placeOrder = (card: string) => stack.placeOrder(card);
  const streamChat = (question: string) => stack.streamChat(question);
  const configureProvider = (name: string, behaviour: Record<string, unknown>) => stack.configureProvider(name, behaviour);
  const prom = (path: string, params: Record<string, string>) => stack.prom(path, params);
  const drive = (ms: number) => stack.drive(ms);
  const firingAlerts = () => stack.firingAlerts();

  beforeAll(async () => {
    stack = await IncidentStack.start(testConfig, 1);
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
  }, 30_000);

  it('the gateway exports the service metrics the Service dashboard reads', async () => {
    const body = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
    for (const name of Object.values(SERVICE_METRICS)) expect(body, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  });

  it('fires the outage alerts when a provider goes down, and the burn alerts while spend climbs', async () => {
    await drive(15_000);
    const down = await fetch(`${stack.simUrl}/admin/providers/beta`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ down: true }) });
    expect(down.ok).toBe(true);
    const wanted = ['WeftCircuitOpen', 'WeftFallbackRateHigh', 'WeftCostBurnAbovePlan', 'WeftBudgetExhaustionPredicted'];
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      await drive(3_000);
      const now = await firingAlerts();
      for (const [name, labels] of now) firing.set(name, labels);
      // Each wanted alert with the labels checked below: another series of the same alert (the chat workflow's fallbacks, say) is not enough.
      const has = (name: string, labels: Record<string, string>) => (firing.get(name) ?? []).some((l) => Object.entries(labels).every(([k, v]) => l[k] === v));
      if (has('WeftCircuitOpen', { breaker: 'provider.beta' }) && has('WeftFallbackRateHigh', { step: 'provider.beta', workflow: 'answer' }) && wanted.every((name) => firing.has(name))) break;
    }
    // The tight key spends its $0.002 at once: budget refusals for the refusal panel and alert.
    for (let i = 0; i < 6; i++) await answer(TIGHT_KEY, `a dear question ${i}`, 'premium');
    await drive(4_000);
    for (const [name, labels] of await firingAlerts()) firing.set(name, labels);
    console.log(`[observe] gateway answers by status: ${JSON.stringify(Object.fromEntries(stack.statuses))}`);
    console.log(`[observe] firing alerts: ${[...firing].map(([name, labels]) => `${name}{${labels.map((l) => l.breaker ?? l.step ?? l.budget ?? l.currency ?? l.job).join(',')}}`).join(' ')}`);

    expect(firing.get('WeftCircuitOpen')).toContainEqual(expect.objectContaining({ breaker: 'provider.beta', severity: 'warning', job: 'weft-gateway' }));
    expect(firing.get('WeftFallbackRateHigh')).toContainEqual(expect.objectContaining({ step: 'provider.beta', workflow: 'answer' }));
    expect(firing.get('WeftCostBurnAbovePlan')).toContainEqual(expect.objectContaining({ currency: 'USD', job: 'weft-gateway' }));
    expect(firing.get('WeftBudgetExhaustionPredicted')).toContainEqual(expect.objectContaining({ budget: 'daily', scope: 'window' }));
    // Every rule Prometheus loaded evaluates without error.
    const rules = (await prom('/api/v1/rules', {})) as { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    const unhealthy = rules.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok');
    expect(unhealthy).toEqual([]);
    expect(rules.groups.flatMap((g) => g.rules).filter((r) => 'health' in r).length).toBe(5 + alertSpecs(testConfig).length);
  }, 150_000);

  it('hedges premium calls through a latency spike, and sheds an overload burst with 503s', async () => {
    // A latency spike on gamma, the premium provider (it also serves standard while beta is down):
    // some attempts outlast PROVIDER_TIMEOUT_MS, and premium calls start hedges, some of which win.
    await configureProvider('gamma', { latencyMs: 200, jitterMs: 4000 });
    const premium: Promise<unknown>[] = [];
    // Hedge wins are random: keep the premium stream going (5 s at least, 25 s at most) until the
    // gateway's own /metrics shows a won hedge and a timeout, so the panels have something to show.
    const wonAndTimedOut = async (): Promise<boolean> => {
      const text = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
      const positive = (name: string) => text.split('\n').some((l) => l.startsWith(name) && Number(l.split(' ').at(-1)) > 0);
      return positive('weft_hedges_won_total') && positive('weft_timeouts_total');
    };
    const started = Date.now();
    while (Date.now() - started < 25_000) {
      const until = Date.now() + 5_000;
      const stream = (async () => {
        while (Date.now() < until) {
          premium.push(answer(KEY, `premium question during the spike ${stack.n}-${premium.length}`, 'premium'));
          await sleep(150);
        }
      })();
      await Promise.all([stream, drive(5_000)]);
      if (await wonAndTimedOut()) break;
    }
    await Promise.all(premium);
    // An overload burst of distinct economy questions while alpha and gamma answer in 500 ms: more
    // than their slots and queue places (beta is down), so the rest is refused at once with 503.
    for (const name of ['alpha', 'gamma']) await configureProvider(name, { latencyMs: 500, jitterMs: 0 });
    await sleep(1_100); // the batch key's rate-limit bucket refills
    const before = stack.statuses.get(503) ?? 0;
    await Promise.all(Array.from({ length: 60 }, (_, i) => answer(BATCH_KEY, `an urgent batch question ${i}`, 'economy')));
    const shed = (stack.statuses.get(503) ?? 0) - before;
    for (const name of ['alpha', 'gamma']) await configureProvider(name, { latencyMs: 20, jitterMs: 60 });
    await drive(3_000);
    console.log(`[observe] gateway answers by status: ${JSON.stringify(Object.fromEntries(stack.statuses))}; shed by the burst: ${shed}; orders by status: ${JSON.stringify(Object.fromEntries(stack.orderStatuses))}; streams by status: ${JSON.stringify(Object.fromEntries(stack.streamStatuses))}`);
    expect(shed, 'the burst got 503 providers_unavailable').toBeGreaterThan(0);
    expect(stack.orderStatuses.get(201)).toBeGreaterThan(0);
    expect(stack.orderStatuses.get(402), 'declined cards compensate').toBeGreaterThan(0);
  }, 90_000);

  /** Polls the firing alerts every second until `done` says so or `ms` pass, remembering every alert seen firing. */
  async function watchAlerts(ms: number, done: () => boolean, work?: () => Promise<unknown>): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await Promise.all([work?.(), sleep(1_000)]);
      for (const [name, labels] of await firingAlerts()) firing.set(name, [...(firing.get(name) ?? []), ...labels]);
      if (done()) return;
    }
  }
  const fired = (name: string, labels: Record<string, string> = {}) => (firing.get(name) ?? []).some((l) => Object.entries(labels).every(([k, v]) => l[k] === v));
  const providers = PROVIDERS;

  it('fires every shipped alert through a brownout, an outage, a Redis outage, failing compensations, a backlog and a dead target', async () => {
    // Brownout: every provider answers in 2.7 s (under the 3 s provider timeout). Served answers
    // and first tokens get slow; the normal load pauses so fast cache hits do not dilute the tail.
    for (const name of providers) await configureProvider(name, { down: false, latencyMs: 2_700, jitterMs: 0 });
    const inFlight: Promise<unknown>[] = [];
    let b = 0;
    await watchAlerts(60_000, () => fired('WeftWorkflowSlow', { workflow: 'answer' }) && fired('WeftStreamFirstTokenSlow', { workflow: 'chat' }), async () => {
      for (let i = 0; i < 8; i++) inFlight.push(answer(KEY, `a question during the brownout ${stack.n}-${b++}`, 'standard'));
      for (let i = 0; i < 3; i++) inFlight.push(streamChat(`a streamed question during the brownout ${stack.n}-${b++}`));
    });
    await Promise.all(inFlight);
    console.log(`[observe] brownout: ${b} requests; slow workflow fired: ${fired('WeftWorkflowSlow')}, slow first token fired: ${fired('WeftStreamFirstTokenSlow')}`);

    // Outage: every provider down; answers fail (fallback exhausted), a fault, not a refusal.
    for (const name of providers) await configureProvider(name, { down: true, latencyMs: 20, jitterMs: 60 });
    await watchAlerts(40_000, () => fired('WeftWorkflowErrorRatioHigh', { workflow: 'answer' }), () => drive(1_000));
    for (const name of providers) await configureProvider(name, { down: false });

    // The gateway's Redis dies for 5 s under load, then comes back: caches, budgets and rate limits
    // report store errors from a really broken store.
    await stack.gatewayRedis.kill();
    await drive(5_000);
    await stack.gatewayRedis.start();
    await drive(4_000);
    const storeErrors = (await prom('/api/v1/query', { query: `sum(weft_cache_requests_total{result="store_error"}) + sum(weft_budget_store_errors_total) + sum(weft_ratelimit_store_errors_total)` })) as { result: Array<{ value: [number, string] }> };
    const storeErrorCount = Number(storeErrors.result[0]?.value[1] ?? 0);
    console.log(`[observe] store errors counted while the gateway's Redis was down: ${storeErrorCount}`);
    expect(storeErrorCount).toBeGreaterThan(0);

    // Compensations fail: undeliverable orders must undo their reservation and charge, and cannot.
    await stack.services('/admin/compensations', { fail: true });
    const undeliverable = (i: number) => stack.placeOrder('4242424242424242', UNDELIVERABLE_POSTCODE, `ord-undeliverable-${stack.n}-${i}`);
    await Promise.all([0, 1, 2].map(undeliverable));
    await watchAlerts(40_000, () => fired('WeftSagaCompensationFailures', { saga: 'place_order' }));
    await stack.services('/admin/compensations', { fail: false });

    // Backlog: the services slow to 2 s a call while 150 orders arrive; 4 workers cannot keep up.
    await stack.services('/admin/latency', { ms: 2_000 });
    const flood = Array.from({ length: 150 }, () => placeOrder('4242424242424242'));
    await watchAlerts(40_000, () => fired('WeftQueueBacklogGrowing', { queue: 'place_order' }));
    await stack.services('/admin/latency', { ms: 0 });
    await Promise.all(flood);

    // A dead target: the orders process is killed; Prometheus's scrapes fail.
    stack.orders.process.kill('SIGKILL');
    await watchAlerts(20_000, () => fired('WeftTargetDown', { job: 'weft-orders' }));

    const all = alertSpecs(testConfig).map((a) => a.name);
    const missing = all.filter((name) => !firing.has(name));
    console.log(`[observe] alerts fired: ${all.length - missing.length} of ${all.length}${missing.length > 0 ? `; never fired: ${missing.join(', ')}` : ''}`);
    expect(missing).toEqual([]);
  }, 360_000);

  it("feeds the alerts' promtool tests only series that the real services export", async () => {
    const invented: string[] = [];
    let checked = 0;
    for (const spec of alertSpecs(testConfig)) {
      for (const scenario of [spec.tests.silent, spec.tests.fires]) {
        for (const { series } of scenario.series) {
          const m = /^([a-zA-Z_:][\w:]*)\{(.*)\}$/.exec(series);
          if (m === null) throw new Error(`cannot parse ${series}`);
          // Prometheus adds job and instance at the scrape; everything else the service exports itself.
          const matchers = m[2]!.split(/,\s*/).filter((l) => l !== '' && !/^(job|instance)=/.test(l));
          const match = `${m[1]}{${matchers.join(', ')}}`;
          const found = (await prom('/api/v1/series', { 'match[]': matchers.length > 0 ? match : m[1]!, start: String(stack.startedAt / 1000) })) as unknown[];
          checked++;
          if (found.length === 0) invented.push(`${spec.name}: ${series}`);
        }
      }
    }
    console.log(`[observe] promtool input series checked against the real scrape: ${checked}; not exported by any real service: ${invented.length}`);
    expect(invented).toEqual([]);
  });

  it('every query of every panel on every dashboard returns at least one series', async () => {
    const dashboards = dashboardSpecs(CONFIG).map(({ file }) => JSON.parse(readFileSync(join(root, PATHS.dashboards, file), 'utf8')) as DashboardJson);
    const queries: PanelQuery[] = dashboards.flatMap(queriesOfJson);
    const range = { start: String(stack.startedAt / 1000), end: String(Date.now() / 1000), step: '2' };
    const empty: string[] = [];
    const gatewayEmpty: string[] = [];
    for (const q of queries) {
      const all = (await prom('/api/v1/query_range', { query: expandVariables(q.expr, '15s'), ...range })) as { result: unknown[] };
      if (all.result.length === 0) empty.push(`${q.dashboard} / ${q.panel} / ${q.legend}: ${q.expr}`);
      const alone = (await prom('/api/v1/query_range', { query: expandVariables(q.expr.replace(/\$job\b/g, 'weft-gateway'), '15s'), ...range })) as { result: unknown[] };
      if (alone.result.length === 0) gatewayEmpty.push(`${q.dashboard} / ${q.panel} / ${q.legend}`);
    }
    // The template variables list values too.
    for (const d of dashboards) {
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        const m = /^label_values\((.*), (\w+)\)$/.exec(v.query?.query ?? '')!;
        const values = (await prom(`/api/v1/label/${m[2]}/values`, { 'match[]': expandVariables(m[1]!, '15s') })) as string[];
        expect(values.length, `${d.title} variable ${v.name}`).toBeGreaterThan(0);
      }
    }
    console.log(
      `[observe] panel queries: ${queries.length}; returned data: ${queries.length - empty.length}; from the gateway alone: ${queries.length - gatewayEmpty.length}` +
        (gatewayEmpty.length > 0 ? `\n[observe] the gateway alone misses: ${gatewayEmpty.join('; ')}` : ''),
    );
    expect(empty).toEqual([]);
    // Series per Weft and HTTP metric, as Prometheus holds them: bounded by names in code, never by keys or input.
    const perMetric = (await prom('/api/v1/query', { query: 'sort_desc(count by (__name__) ({__name__=~"weft_.+|http_server_.+"}))' })) as { result: Array<{ metric: { __name__: string }; value: [number, string] }> };
    const total = perMetric.result.reduce((n, r) => n + Number(r.value[1]), 0);
    console.log(`[observe] series per metric (${perMetric.result.length} metrics, ${total} series): ${perMetric.result.map((r) => `${r.metric.__name__} ${r.value[1]}`).join(', ')}`);
  }, 120_000);
});
