/**
 * `npm run demo:incident`: an incident you can watch. Starts the gateway, the orders service and a
 * real Prometheus with the shipped rules and the shipped `for:` values, drives load through a
 * provider outage and then an outage of every provider, and prints when each alert went pending,
 * fired and resolved. The phases are as long as the shipped `for:` values need (about half an hour
 * with the defaults); the observe e2e test runs the same stack with every `for:` at 0 s.
 */
import { spawnSync } from 'node:child_process';
import { CONFIG, seconds } from '../config.js';
import { IncidentStack, PROVIDERS, TIGHT_KEY, type ActiveAlert } from './stack.js';

const SCRAPE_SECONDS = 5;

interface Timeline {
  readonly alert: string;
  pending?: number;
  firing?: number;
  resolved?: number;
}

const clock = (ms: number): string => `${String(Math.floor(ms / 60_000)).padStart(2, '0')}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

function has(binary: string): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}

async function main(): Promise<void> {
  for (const binary of ['prometheus', 'redis-server']) {
    if (!has(binary)) {
      console.error(`demo:incident needs ${binary} on the PATH (Debian: apt-get install prometheus redis-server)`);
      process.exitCode = 1;
      return;
    }
  }
  const a = CONFIG.alerts;
  const rate = seconds(CONFIG.windows.rate) * 1000;
  // Long enough for each alert's `for:` after its condition holds (the ratio over the rate window
  // crosses its threshold within a minute or two), then a margin.
  const providerOutageMs = Math.max(seconds(a.circuitOpen.for), seconds(a.fallbackRatio.for)) * 1000 + 3 * 60_000;
  const fullOutageMs = seconds(a.workflowErrorRatio.for) * 1000 + 3 * 60_000;
  // Alerts resolve once their condition clears: the ratios when the failures leave the rate window.
  const recoveryMs = rate + 5 * 60_000;
  console.log(
    `[incident] shipped for: values: circuit open ${a.circuitOpen.for}, fallback rate ${a.fallbackRatio.for}, error ratio ${a.workflowErrorRatio.for}, budget exhausted ${a.budgetExhausted.for}; ` +
      `the run takes about ${Math.round((60_000 + providerOutageMs + fullOutageMs + recoveryMs) / 60_000)} minutes (Ctrl-C stops it)`,
  );

  const stack = await IncidentStack.start(CONFIG, SCRAPE_SECONDS);
  const started = Date.now();
  console.log(`[incident] gateway ${stack.gatewayUrl}, orders ${stack.ordersUrl}, Prometheus ${stack.promUrl} (open ${stack.promUrl}/alerts to watch)`);
  /** The current episode of each alert, and every episode in order. */
  const timelines = new Map<string, Timeline>();
  const history: Timeline[] = [];
  const identity = (alert: ActiveAlert): string => {
    const { alertname, severity: _severity, ...rest } = alert.labels;
    const detail = rest.breaker ?? rest.step ?? rest.budget ?? rest.workflow ?? rest.instance ?? '';
    return `${alertname}${detail === '' ? '' : ` {${detail}}`}`;
  };
  const poll = async (): Promise<void> => {
    const now = Date.now() - started;
    const active = await stack.alerts().catch(() => [] as ActiveAlert[]);
    const seen = new Set<string>();
    for (const alert of active) {
      const id = identity(alert);
      seen.add(id);
      let t = timelines.get(id);
      if (t === undefined || t.resolved !== undefined) {
        // A new episode (the first, or the alert came back after resolving).
        timelines.set(id, (t = { alert: id }));
        history.push(t);
      }
      if (t.pending === undefined) {
        t.pending = now;
        console.log(`[incident] ${clock(now)} ${id}: pending`);
      }
      if (alert.state === 'firing' && t.firing === undefined) {
        t.firing = now;
        console.log(`[incident] ${clock(now)} ${id}: FIRING`);
      }
    }
    for (const t of timelines.values()) {
      if (!seen.has(t.alert) && t.resolved === undefined && t.pending !== undefined) {
        t.resolved = now;
        console.log(`[incident] ${clock(now)} ${t.alert}: ${t.firing === undefined ? 'cleared before firing' : 'resolved'}`);
      }
    }
  };
  const phase = async (name: string, ms: number, done: () => boolean = () => false): Promise<void> => {
    console.log(`[incident] ${clock(Date.now() - started)} phase: ${name} (up to ${Math.round(ms / 60_000)} min)`);
    const until = Date.now() + ms;
    while (Date.now() < until && !done()) {
      await stack.drive(SCRAPE_SECONDS * 1000);
      await poll();
    }
  };
  const allResolved = (): boolean => [...timelines.values()].every((t) => t.resolved !== undefined);

  try {
    await phase('normal load', 60_000);
    // The tight key spends its $0.002 at once: the budget refuses it.
    for (let i = 0; i < 6; i++) await stack.answer(TIGHT_KEY, `a dear question ${i}`, 'premium');
    await stack.configureProvider('beta', { down: true });
    await phase('provider beta down: its breaker opens, fallbacks serve its calls', providerOutageMs);
    for (const name of PROVIDERS) await stack.configureProvider(name, { down: true });
    await phase('every provider down: answers fail', fullOutageMs);
    for (const name of PROVIDERS) await stack.configureProvider(name, { down: false });
    await phase('recovery: every provider back, until every alert has resolved', recoveryMs, allResolved);
  } finally {
    console.log('\n[incident] alert timeline (minutes:seconds since start):');
    console.log('  alert'.padEnd(56) + 'pending  firing   resolved');
    for (const t of history) {
      const cell = (ms: number | undefined) => (ms === undefined ? '-' : clock(ms)).padEnd(9);
      console.log(`  ${t.alert.padEnd(54)}${cell(t.pending)}${cell(t.firing)}${cell(t.resolved)}`);
    }
    await stack.close();
  }
}

await main();
