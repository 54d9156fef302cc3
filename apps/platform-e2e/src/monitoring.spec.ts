import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Platform, eventually, graphql, workspaceRoot } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

// The alert rules the Helm charts render and the Grafana dashboards they ship may only read metrics
// the services really export: a renamed or never-registered metric would leave an alert silent
// and a panel empty. Every service's /metrics (the gateway's too) is scraped after some traffic.

const run = promisify(execFile);
const workspace = workspaceRoot();

/** Metric name → where it is read (`alert <name> (<group>)`, `dashboard <file>`). */
type References = Record<string, string[]>;

/** The series names an exposition offers: each family's (HELP/TYPE lines), and a histogram's _bucket, _sum and _count. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  for (const [, name] of exposition.matchAll(/^# HELP (\S+) /gm)) names.add(name);
  return names;
}

describe('monitoring', () => {
  let platform: Platform;
  let exported: Map<string, Set<string>>;
  let references: { alerts: References; dashboards: References };

  beforeAll(async () => {
    platform = await usePlatform('default');
    // Some traffic: a sign-up (auth, its outbox, the consumers downstream), a GraphQL error, a 404.
    await registerAccount(platform.gatewayUrl, 'monitoring');
    await graphql(platform.gatewayUrl, '{ thisFieldDoesNotExist }');
    await fetch(`${platform.gatewayUrl}/no-such-route`);
    exported = new Map();
    for (const service of [platform.gateway, ...Object.values(platform.services)]) {
      const response = await fetch(service.metricsUrl);
      expect(response.status).toBe(200);
      for (const name of exportedNames(await response.text())) exported.set(name, (exported.get(name) ?? new Set()).add(service.name));
    }
    // The chart specs' render helper needs their jest global setup: a script runs it and reads the names.
    const { stdout } = await run(
      process.execPath,
      ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', path.join(workspace, 'tools/helm/src/monitoring-references.mjs')],
      { cwd: workspace, maxBuffer: 16 * 1024 * 1024 },
    );
    references = JSON.parse(stdout);
  });

  const missing = (read: References) =>
    Object.entries(read)
      .filter(([name]) => !exported.has(name))
      .map(([name, where]) => `${name}: ${where.join(', ')}`);

  it('scrapes every service, each with the shared request and process metrics', () => {
    const services = [platform.gateway, ...Object.values(platform.services)].map((service) => service.name);
    for (const name of ['http_request_duration_seconds_bucket', 'graphql_operation_duration_seconds_count', 'process_resident_memory_bytes']) {
      expect([...(exported.get(name) ?? [])].sort()).toEqual([...services].sort());
    }
  });

  it('exports every metric the rendered alert rules read', () => {
    expect(Object.keys(references.alerts).length).toBeGreaterThan(15);
    expect(missing(references.alerts)).toEqual([]);
  });

  it('exports every metric the Grafana dashboards read', () => {
    expect(Object.keys(references.dashboards).length).toBeGreaterThan(40);
    expect(missing(references.dashboards)).toEqual([]);
  });

  it('writes a heap snapshot on SIGUSR2 and keeps serving (only SIGTERM and SIGINT stop a service)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'multipult-heap-'));
    const instance = await platform.startServiceInstance('content', { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` });
    try {
      process.kill(instance.pid, 'SIGUSR2');
      const snapshot = await eventually('a complete heap snapshot', async () => {
        const [name] = (await readdir(dir)).filter((file) => file.endsWith('.heapsnapshot'));
        if (!name) return undefined;
        const ready = await fetch(`${instance.url}/health/ready`).then((response) => response.ok, () => false);
        return ready ? { name, bytes: (await stat(path.join(dir, name))).size } : undefined;
      });
      expect(snapshot.name).toContain(`.${instance.pid}.`);
      expect(snapshot.bytes).toBeGreaterThan(1_000_000);
      expect((await fetch(`${instance.url}/health/ready`)).status).toBe(200);
      expect(await readdir(dir)).toHaveLength(1);
    } finally {
      await instance.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
