import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Platform, graphql, workspaceRoot } from '@multipult/testing';
import { exportedNames, metricNamesIn, panelExpressions } from '../../../tools/helm/src/metric-names';
import { registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

// The alert rules the Helm charts render and the Grafana dashboards they ship may only read metrics
// the services really export: a renamed or never-registered metric would leave an alert silent
// and a panel empty. Every service's /metrics (the gateway's too) is scraped after some traffic.

const run = promisify(execFile);
const workspace = workspaceRoot();
const dashboardsDir = path.join(workspace, 'helm/multipult/dashboards');

interface RuleGroup {
  name: string;
  rules: { alert: string; expr: string }[];
}

/** Where each name is read: `alert <name> (<group>)` or `dashboard <file>`. */
type References = Map<string, Set<string>>;

function reference(references: References, expr: string, where: string): void {
  for (const name of metricNamesIn(expr)) references.set(name, (references.get(name) ?? new Set()).add(where));
}

describe('monitoring', () => {
  let platform: Platform;
  let exported: Map<string, Set<string>>;

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
  });

  it('scrapes every service, each with the shared request and process metrics', () => {
    const services = [platform.gateway, ...Object.values(platform.services)].map((service) => service.name);
    for (const name of ['http_request_duration_seconds_bucket', 'graphql_operation_duration_seconds_count', 'process_resident_memory_bytes']) {
      expect([...(exported.get(name) ?? [])].sort()).toEqual([...services].sort());
    }
  });

  it('exports every metric the rendered alert rules read', async () => {
    // The chart specs' render helper needs their jest global setup: the same, run as a script.
    const { stdout } = await run(process.execPath, [path.join(workspace, 'tools/helm/src/alert-rules.mjs')], { cwd: workspace, maxBuffer: 16 * 1024 * 1024 });
    const groups = JSON.parse(stdout) as RuleGroup[];
    const references: References = new Map();
    for (const group of groups) for (const rule of group.rules) reference(references, rule.expr, `alert ${rule.alert} (${group.name})`);

    expect(references.size).toBeGreaterThan(15);
    const missing = [...references].filter(([name]) => !exported.has(name)).map(([name, where]) => `${name}: ${[...where].join(', ')}`);
    expect(missing).toEqual([]);
  });

  it('exports every metric the Grafana dashboards read', async () => {
    const references: References = new Map();
    for (const file of (await readdir(dashboardsDir)).filter((candidate) => candidate.endsWith('.json'))) {
      const dashboard = JSON.parse(await readFile(path.join(dashboardsDir, file), 'utf8'));
      for (const expr of panelExpressions(dashboard)) reference(references, expr, `dashboard ${file}`);
    }

    expect(references.size).toBeGreaterThan(40);
    const missing = [...references].filter(([name]) => !exported.has(name)).map(([name, where]) => `${name}: ${[...where].join(', ')}`);
    expect(missing).toEqual([]);
  });
});
