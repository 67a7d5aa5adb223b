import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWith, hasBinary } from '@weft/test-support';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';

// The deploy/ files belong to the future gateway app; they are checked here because the root
// vitest config only collects tests under packages/, apps/, dashboards/, alerts/ and bench/.
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const deploy = join(repo, 'deploy');
const prometheusConfig = join(deploy, 'prometheus/prometheus.yml');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** The parts of each deploy file the tests read. */
interface Service {
  readonly image?: string;
  readonly ports?: string[];
  readonly environment?: Record<string, string>;
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly volumes?: string[];
}
interface Compose {
  readonly services: Record<string, Service>;
}
interface ScrapeConfig {
  scrape_interval?: string;
  readonly metrics_path?: string;
  readonly static_configs?: { readonly targets: string[] }[];
}
interface PrometheusConfig {
  rule_files: string[];
  readonly scrape_configs: ScrapeConfig[];
}
interface Probe {
  readonly httpGet: { readonly path: string };
}
interface Container {
  readonly livenessProbe: Probe;
  readonly readinessProbe: Probe;
  readonly resources: { readonly requests: Record<string, string> };
  readonly env: { readonly name: string; readonly value?: string; readonly valueFrom?: { readonly secretKeyRef: unknown } }[];
}
interface Deployment {
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly template: { readonly spec: { readonly containers: Container[]; readonly securityContext: { readonly runAsNonRoot: boolean } } };
  };
}
interface Hpa {
  readonly apiVersion: string;
  readonly spec: { readonly scaleTargetRef: unknown; readonly metrics: { readonly resource: { readonly name: string } }[] };
}

/** A deploy file parsed as `T`: the tests' assertions check that it really has that shape. */
function load<T>(path: string): T {
  return parse(readFileSync(join(deploy, path), 'utf8')) as T;
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy files', () => {
  it('parses every YAML file under deploy/', () => {
    const files = yamlFiles(deploy);
    expect(files.map((file) => relative(deploy, file)).sort()).toEqual(
      expect.arrayContaining([
        'docker-compose.yml',
        'grafana/provisioning/dashboards/weft.yml',
        'grafana/provisioning/datasources/prometheus.yml',
        'k8s/deployment.yaml',
        'k8s/hpa.yaml',
        'k8s/orders.yaml',
        'k8s/service.yaml',
        'prometheus/prometheus.yml',
      ]),
    );
    for (const file of files) {
      const documents = parseAllDocuments(readFileSync(file, 'utf8'));
      const list = Array.isArray(documents) ? documents : [documents];
      for (const document of list) expect(document.errors.map(String), relative(repo, file)).toEqual([]);
    }
  });

  it('builds the gateway in a multi-stage node:20-slim image that runs as a non-root user', () => {
    const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS \w+$/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^\s+HOST=0\.0\.0\.0 \\$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health\/live/m);
    expect(dockerfile).toMatch(/^CMD \["node", "apps\/gateway\/dist\/main\.js"\]$/m);
  });

  it('wires the compose stack: gateway with Redis, Prometheus with the alerts, Grafana with the dashboards', () => {
    const compose = load<Compose>('docker-compose.yml');
    const { gateway: gatewayService, redis, prometheus, grafana } = compose.services;
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'orders-api', 'orders-services', 'orders-worker', 'prometheus', 'redis']);
    // Orders: an API role and a worker role of one image, on a Redis that persists its log and queue.
    expect(compose.services['orders-api']?.environment).toMatchObject({ ORDERS_ROLE: 'api', REDIS_URL: 'redis://redis:6379' });
    expect(compose.services['orders-worker']?.environment).toMatchObject({ ORDERS_ROLE: 'worker', REDIS_URL: 'redis://redis:6379' });
    expect((redis as { command?: string[] } | undefined)?.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(gatewayService?.ports).toContain('3000:3000');
    expect(gatewayService?.environment).toMatchObject({ HOST: '0.0.0.0', REDIS_URL: 'redis://redis:6379', GATEWAY_DEMO: 'true', SIM_HOST: '0.0.0.0' });
    expect(gatewayService?.ports).toContain('127.0.0.1:4010:4010');
    expect(gatewayService?.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(redis?.image).toMatch(/^redis:7/);
    expect(prometheus?.volumes).toContain('../alerts:/etc/prometheus/rules:ro');
    expect(grafana?.volumes).toContain('../dashboards/generated:/var/lib/grafana/dashboards/weft:ro');
    // Every bind mount and the build context exist relative to deploy/.
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) expect(existsSync(resolve(deploy, volume.split(':')[0] ?? '')), volume).toBe(true);
    }
    expect(existsSync(resolve(deploy, gatewayService?.build?.context ?? '', gatewayService?.build?.dockerfile ?? ''))).toBe(true);
  });

  it('scrapes gateway:3000/metrics every 5s and loads the mounted rules', () => {
    const config = load<PrometheusConfig>('prometheus/prometheus.yml');
    const gateway = config.scrape_configs.find((job) => job.static_configs?.some((s) => s.targets.includes('gateway:3000')));
    expect(gateway).toMatchObject({ scrape_interval: '5s', metrics_path: '/metrics' });
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    const provider = load<{ providers: { options: { path: string } }[] }>('grafana/provisioning/dashboards/weft.yml').providers[0];
    expect(provider?.options.path).toBe('/var/lib/grafana/dashboards/weft');
    expect(load<{ datasources: unknown[] }>('grafana/provisioning/datasources/prometheus.yml').datasources[0]).toMatchObject({ uid: 'prometheus', url: 'http://prometheus:9090' });
  });

  it('probes, sizes and scales the gateway on Kubernetes, with REDIS_URL from a Secret', () => {
    const deployment = load<Deployment>('k8s/deployment.yaml');
    const container = deployment.spec.template.spec.containers[0]!;
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(container.resources.requests).toEqual({ cpu: expect.any(String) as unknown, memory: expect.any(String) as unknown });
    expect(container.env.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'weft-gateway-redis', key: 'url' });
    expect(container.env.find((e) => e.name === 'HOST')?.value).toBe('0.0.0.0');
    // Real providers and keys from a Secret; production without them refuses to start (NODE_ENV=production).
    expect((container as unknown as { envFrom?: Array<{ secretRef?: { name: string } }> }).envFrom).toContainEqual({ secretRef: { name: 'weft-gateway' } });
    expect(container.env.find((e) => e.name === 'NODE_ENV')?.value).toBe('production');
    expect(container.env.some((e) => e.name === 'GATEWAY_DEMO')).toBe(false);
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(deployment.spec.selector.matchLabels).toEqual(load<{ spec: { selector: unknown } }>('k8s/service.yaml').spec.selector);
    const hpa = load<Hpa>('k8s/hpa.yaml');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.metrics[0]?.resource.name).toBe('cpu');
  });

  describeWith('promtool on the PATH (Debian: apt-get install prometheus)', 'promtool', hasBinary('promtool'), () => {
    it('accepts deploy/prometheus/prometheus.yml', () => {
      const result = promtool('check', 'config', prometheusConfig);
      expect(result.status, result.output).toBe(0);
    });

    it('accepts the config with the rules compose mounts from alerts/, and rejects a broken one', () => {
      const dir = mkdtempSync(join(tmpdir(), 'weft-prometheus-'));
      try {
        const config = load<PrometheusConfig>('prometheus/prometheus.yml');
        config.rule_files = [join(repo, 'alerts', '*.yml')];
        writeFileSync(join(dir, 'with-alerts.yml'), stringify(config));
        const withAlerts = promtool('check', 'config', join(dir, 'with-alerts.yml'));
        expect(withAlerts.status, withAlerts.output).toBe(0);

        config.scrape_configs[0]!.scrape_interval = 'five seconds';
        writeFileSync(join(dir, 'broken.yml'), stringify(config));
        expect(promtool('check', 'config', join(dir, 'broken.yml')).status).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
