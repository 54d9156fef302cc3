import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { panelExpressions } from './metric-names';
import { Manifest, render } from './render';

// The Grafana dashboards of helm/multipult/dashboards as the umbrella chart ships them: one
// ConfigMap each for the Grafana sidecar. apps/platform-e2e/src/monitoring.spec.ts checks that
// their expressions read only metrics the services export.

const dashboardsDir = path.resolve(__dirname, '../../../helm/multipult/dashboards');

interface Dashboard {
  uid: string;
  title: string;
  templating: { list: { name: string; type: string; query: string }[] };
  panels: { type: string; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[] }[];
}

const dashboardConfigMaps = (manifests: Manifest[]) =>
  manifests.filter((manifest) => manifest.kind === 'ConfigMap' && manifest.metadata.name.startsWith('multipult-dashboard-'));

describe('Grafana dashboards', () => {
  let files: string[];

  beforeAll(async () => {
    files = (await readdir(dashboardsDir)).filter((file) => file.endsWith('.json')).sort();
  });

  it('are ConfigMaps labelled for the Grafana sidecar when grafanaDashboards.enabled, one per dashboard', async () => {
    const configMaps = dashboardConfigMaps(await render('multipult', { set: { 'grafanaDashboards.enabled': 'true' } }));

    expect(configMaps.map((configMap) => Object.keys(configMap.data ?? {})[0]).sort()).toEqual(files);
    for (const configMap of configMaps) {
      expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/part-of': 'multipult' });
      const [[file, json]] = Object.entries(configMap.data ?? {});
      expect(JSON.parse(json)).toEqual(JSON.parse(await readFile(path.join(dashboardsDir, file), 'utf8')));
    }
  });

  it('take the labels of grafanaDashboards.labels, and are not rendered unless enabled', async () => {
    const labelled = dashboardConfigMaps(
      await render('multipult', { set: { 'grafanaDashboards.enabled': 'true', 'grafanaDashboards.labels.grafana_folder': 'platform' } }),
    );
    expect(labelled[0].metadata.labels).toMatchObject({ grafana_dashboard: '1', grafana_folder: 'platform' });
    expect(dashboardConfigMaps(await render('multipult'))).toEqual([]);
  });

  it('cover the platform and every service, each read through the $datasource variable', async () => {
    expect(files).toEqual(['agents.json', 'auth.json', 'content.json', 'export.json', 'gateway.json', 'notifications.json', 'platform-overview.json']);
    const uids = new Set<string>();
    for (const file of files) {
      const dashboard = JSON.parse(await readFile(path.join(dashboardsDir, file), 'utf8')) as Dashboard;
      uids.add(dashboard.uid);
      expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
      for (const panel of dashboard.panels.filter((candidate) => candidate.type !== 'row')) {
        expect({ file, panel: panel.datasource?.uid }).toEqual({ file, panel: '${datasource}' });
        for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe('${datasource}');
      }
      expect(panelExpressions(dashboard).length).toBeGreaterThan(10);
      if (file !== 'platform-overview.json') {
        const service = file.replace('.json', '');
        const unscoped = panelExpressions(dashboard).filter((expr) => !expr.includes(`service="${service}"`));
        // The gateway's file downloads carry the target service in their own `service` label.
        expect(unscoped.filter((expr) => !expr.includes('gateway_file_downloads_total'))).toEqual([]);
      }
    }
    expect(uids.size).toBe(files.length);
  });
});
