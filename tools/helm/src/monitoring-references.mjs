// Prints, as JSON, every metric name the monitoring the charts ship reads, with where it is read:
// the alert rules the umbrella chart renders with global.metrics.prometheusRule.enabled (every
// service's PrometheusRule) and the panels of helm/multipult/dashboards. For checks outside the
// chart specs' jest project (apps/platform-e2e/src/monitoring.spec.ts); Node 24 loads metric-names.ts.
//   node tools/helm/src/monitoring-references.mjs    → { "alerts": { name: [where] }, "dashboards": { … } }
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import globalSetup from '../jest/global-setup.mjs';
import globalTeardown from '../jest/global-teardown.mjs';
import { metricNamesIn, panelExpressions } from './metric-names.ts';

const dashboardsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../helm/multipult/dashboards');

function referencesIn(sources) {
  const references = {};
  for (const { expr, where } of sources) {
    for (const name of metricNamesIn(expr)) references[name] = [...new Set([...(references[name] ?? []), where])];
  }
  return references;
}

async function alertRuleGroups() {
  await globalSetup();
  try {
    const rendered = spawnSync(
      process.env.MULTIPULT_HELM_BINARY,
      ['template', 'multipult', path.join(process.env.MULTIPULT_HELM_CHARTS, 'multipult'), '--set', 'global.metrics.prometheusRule.enabled=true'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (rendered.status !== 0) throw new Error(`helm template helm/multipult failed: ${rendered.stderr}`);
    return parseAllDocuments(rendered.stdout)
      .map((document) => document.toJS())
      .filter((manifest) => manifest?.kind === 'PrometheusRule')
      .flatMap((manifest) => manifest.spec.groups);
  } finally {
    await globalTeardown();
  }
}

const alerts = (await alertRuleGroups()).flatMap((group) => group.rules.map((rule) => ({ expr: rule.expr, where: `alert ${rule.alert} (${group.name})` })));
const panels = [];
for (const file of (await readdir(dashboardsDir)).filter((name) => name.endsWith('.json')).sort()) {
  const dashboard = JSON.parse(await readFile(path.join(dashboardsDir, file), 'utf8'));
  for (const expr of panelExpressions(dashboard)) panels.push({ expr, where: `dashboard ${file}` });
}
process.stdout.write(`${JSON.stringify({ alerts: referencesIn(alerts), dashboards: referencesIn(panels) })}\n`);
