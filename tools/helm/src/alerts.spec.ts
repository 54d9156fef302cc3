import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { metricNamesIn } from './metric-names';
import { render } from './render';

// The alert rules every service chart renders (helm/library/templates/_alerts.tpl), checked by
// promtool as Prometheus would load them, unit-tested with tools/helm/alerts/*.test.yaml, each with
// a runbook in docs/runbooks.

const run = promisify(execFile);
const workspace = path.resolve(__dirname, '../../..');
const testsDir = path.join(workspace, 'tools/helm/alerts');
const RUNBOOK_BASE = 'https://github.com/multipult/multipult/blob/main/';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

interface AlertTestFile {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

/** HighGraphQLLatency → high-graphql-latency */
const kebab = (name: string) =>
  name
    .replace(/GraphQL/g, 'Graphql')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();

async function promtool(args: string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error("promtool is missing: install Debian's `prometheus` package (apt-get install prometheus), which provides /usr/bin/promtool");
    }
    return { ok: false, output: `${failure.stdout ?? ''}${failure.stderr ?? failure.message}` };
  }
}

describe('alert rules', () => {
  let dir: string;
  let groups: RuleGroup[];
  let alerts: AlertRule[];
  let testFiles: string[];

  beforeAll(async () => {
    const manifests = await render('multipult', { set: { 'global.metrics.prometheusRule.enabled': 'true' } });
    groups = manifests.filter((manifest) => manifest.kind === 'PrometheusRule').flatMap((manifest) => (manifest.spec as { groups: RuleGroup[] }).groups);
    alerts = groups.flatMap((group) => group.rules);
    dir = await mkdtemp(path.join(os.tmpdir(), 'multipult-alerts-'));
    await writeFile(path.join(dir, 'rules.yaml'), stringify({ groups }));
    testFiles = (await readdir(testsDir)).filter((file) => file.endsWith('.test.yaml')).sort();
    for (const file of testFiles) await copyFile(path.join(testsDir, file), path.join(dir, file));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders groups of every service, scoped to it', () => {
    expect(new Set(groups.map((group) => group.name.split('.')[0]))).toEqual(new Set(['gateway', 'auth', 'content', 'notifications', 'export', 'agents']));
    for (const group of groups) {
      const service = group.name.split('.')[0];
      for (const rule of group.rules) {
        expect(rule.labels.service).toBe(service);
        for (const selector of rule.expr.match(/\{[^}]*\}/g) ?? []) expect(selector).toContain(`service="${service}"`);
      }
    }
    expect(alerts.filter((rule) => rule.alert === 'SigningKeyRotationOverdue').map((rule) => rule.labels.service)).toEqual(['auth']);
    expect(alerts.filter((rule) => rule.alert === 'GatewaySupergraphReloadFailing').map((rule) => rule.labels.service)).toEqual(['gateway']);
  });

  it('passes promtool check rules', async () => {
    const checked = await promtool(['check', 'rules', 'rules.yaml'], dir);
    expect(checked.output).toContain('SUCCESS');
    expect(checked.ok).toBe(true);
  });

  it('passes the promtool unit tests of tools/helm/alerts', async () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const tested = await promtool(['test', 'rules', ...testFiles], dir);
    if (!tested.ok) throw new Error(`promtool test rules failed:\n${tested.output}`);
  });

  it('has, for every alert, a test that fires it and a test that shows it quiet on healthy series', async () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const file of testFiles) {
      const { tests } = parse(await readFile(path.join(testsDir, file), 'utf8')) as AlertTestFile;
      for (const check of tests.flatMap((test) => test.alert_rule_test ?? [])) {
        (check.exp_alerts?.length ? firing : quiet).add(check.alertname);
      }
    }
    const names = [...new Set(alerts.map((rule) => rule.alert))].sort();
    expect(names.filter((name) => !firing.has(name))).toEqual([]);
    expect(names.filter((name) => !quiet.has(name))).toEqual([]);
    expect([...firing, ...quiet].filter((name) => !names.includes(name))).toEqual([]);
  });

  it('gives every alert a severity, a summary, a description and a runbook in docs/runbooks', async () => {
    const index = await readFile(path.join(workspace, 'docs/runbooks/README.md'), 'utf8');
    for (const rule of alerts) {
      expect({ alert: rule.alert, severity: rule.labels.severity }).toEqual({ alert: rule.alert, severity: expect.stringMatching(/^(critical|warning)$/) });
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
      const runbook = `docs/runbooks/${kebab(rule.alert)}.md`;
      expect(rule.annotations.runbook_url).toBe(`${RUNBOOK_BASE}${runbook}`);
      expect({ runbook, exists: existsSync(path.join(workspace, runbook)) }).toEqual({ runbook, exists: true });
      expect(index).toContain(`(${kebab(rule.alert)}.md)`);
    }
  });

  it('reads only metric names, which apps/platform-e2e/src/monitoring.spec.ts checks the services export', () => {
    const names = new Set(alerts.flatMap((rule) => metricNamesIn(rule.expr)));
    expect(names).toContain('http_request_duration_seconds_bucket');
    expect(names).toContain('retention_last_run_timestamp_seconds');
    for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
  });
});

describe('metricNamesIn', () => {
  it('finds the metric names of an expression, not its functions, labels, keywords, ranges or variables', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket{service="a",route!="/x"}[$__rate_interval])))' +
          ' > 2 and on (service) group_left () (time() - process_start_time_seconds offset 15m) or vector(0) * 1e3',
      ),
    ).toEqual(['http_request_duration_seconds_bucket', 'process_start_time_seconds']);
  });
});
