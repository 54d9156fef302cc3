// Prints the alert rule groups the umbrella chart renders with global.metrics.prometheusRule.enabled
// (every service's PrometheusRule, in one list) as JSON, for checks outside the chart specs' jest
// project (apps/platform-e2e/src/monitoring.spec.ts).
//   node tools/helm/src/alert-rules.mjs
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import globalSetup from '../jest/global-setup.mjs';
import globalTeardown from '../jest/global-teardown.mjs';

await globalSetup();
try {
  const rendered = spawnSync(
    process.env.MULTIPULT_HELM_BINARY,
    ['template', 'multipult', path.join(process.env.MULTIPULT_HELM_CHARTS, 'multipult'), '--set', 'global.metrics.prometheusRule.enabled=true'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (rendered.status !== 0) throw new Error(`helm template helm/multipult failed: ${rendered.stderr}`);
  const groups = parseAllDocuments(rendered.stdout)
    .map((document) => document.toJS())
    .filter((manifest) => manifest?.kind === 'PrometheusRule')
    .flatMap((manifest) => manifest.spec.groups);
  process.stdout.write(`${JSON.stringify(groups)}\n`);
} finally {
  await globalTeardown();
}
