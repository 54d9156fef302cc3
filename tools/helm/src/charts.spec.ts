import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SERVICE_REGISTRY, SUBGRAPH_SERVICES } from '@multipult/registry';
import { schemaProblems } from './kubernetes-schemas';
import { Manifest, RenderOptions, lint, render } from './render';

const run = promisify(execFile);
const workspace = path.resolve(__dirname, '../../..');
const SERVICES = [SERVICE_REGISTRY.gateway.name, ...SUBGRAPH_SERVICES.map((service) => service.name)];
const UMBRELLA_VALUES: Record<string, RenderOptions> = {
  default: {},
  production: { valuesFiles: ['values-production.yaml'], set: { 'global.image.tag': '1.4.2' } },
  minimal: { valuesFiles: ['values-minimal.yaml'] },
  // Background work on worker pods for every subgraph: each check below holds for those pods too.
  workers: { set: Object.fromEntries(SUBGRAPH_SERVICES.map((service) => [`${service.name}.workers.enabled`, 'true'])) },
};

type PodSpec = {
  containers: Array<{
    name: string;
    image: string;
    args?: string[];
    ports?: Array<{ name: string; containerPort: number }>;
    startupProbe?: unknown;
    livenessProbe?: { httpGet?: { path: string } };
    readinessProbe?: { httpGet?: { path: string } };
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
    envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
    env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  }>;
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
};
type LabelSelector = { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
type Peer = { podSelector?: LabelSelector; namespaceSelector?: unknown; ipBlock?: unknown };

const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const podTemplate = (workload: Manifest) => (workload.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;

function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every((expression) => {
    if (expression.operator === 'In') return expression.values?.includes(labels[expression.key]) ?? false;
    if (expression.operator === 'NotIn') return !expression.values?.includes(labels[expression.key]);
    if (expression.operator === 'Exists') return expression.key in labels;
    return !(expression.key in labels);
  });
  return byLabels && byExpressions;
}

const rendered = new Map<string, Promise<Manifest[]>>();
const umbrella = (name: keyof typeof UMBRELLA_VALUES) => {
  if (!rendered.has(name)) rendered.set(name, render('multipult', { release: 'multipult', ...UMBRELLA_VALUES[name] }));
  return rendered.get(name) as Promise<Manifest[]>;
};

describe('Helm charts', () => {
  it('the generated chart files match the service registry', async () => {
    await expect(run(process.execPath, [path.join(workspace, 'tools/helm/charts.mjs'), '--check'])).resolves.toBeDefined();
  });

  it.each(Object.keys(UMBRELLA_VALUES))('the umbrella chart passes helm lint --strict with the %s values', async (name) => {
    await expect(lint('multipult', UMBRELLA_VALUES[name])).resolves.toContain('0 chart(s) failed');
  });

  it.each(SERVICES)('the %s chart lints and renders alone, as its own release', async (service) => {
    await expect(lint(service)).resolves.toContain('0 chart(s) failed');
    const manifests = await render(service, { release: service, set: { 'image.tag': '2.0.1' } });
    const deployments = ofKind(manifests, 'Deployment');
    expect(deployments.map((deployment) => deployment.metadata.name)).toEqual([`multipult-${service}`]);
    expect(podTemplate(deployments[0]).spec.containers[0].image).toBe(`multipult/${service}:2.0.1`);
    expect(manifests.every((manifest) => manifest.metadata.name.startsWith('multipult-'))).toBe(true);
  });

  describe.each(Object.keys(UMBRELLA_VALUES))('the umbrella chart with the %s values', (name) => {
    let manifests: Manifest[];
    beforeAll(async () => {
      manifests = await umbrella(name);
    });

    it('renders objects the Kubernetes API schemas accept', async () => {
      expect(manifests.length).toBeGreaterThan(40);
      expect(await schemaProblems(manifests)).toEqual([]);
    });

    it('and the schema check refuses what the API server would', async () => {
      const deployment = structuredClone(ofKind(manifests, 'Deployment')[0]);
      (deployment.spec as { replicas: unknown }).replicas = 'two';
      const service = structuredClone(ofKind(manifests, 'Service')[0]);
      delete (service.spec as { ports: Array<{ port?: number }> }).ports[0].port;
      const problems = await schemaProblems([deployment, service]);
      expect(problems).toEqual([expect.stringMatching(/^Deployment\/.*replicas/), expect.stringMatching(/^Service\/.*port/)]);
    });

    it('installs a Deployment and a Service for the gateway and every subgraph', () => {
      for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'ConfigMap']) {
        const names = ofKind(manifests, kind).map((manifest) => manifest.metadata.name);
        expect(names).toEqual(expect.arrayContaining(SERVICES.map((service) => `multipult-${service}`)));
      }
    });

    it('gives every container the three probes on the health endpoints, resources and a locked-down security context', () => {
      for (const workload of ofKind(manifests, 'Deployment')) {
        const { spec } = podTemplate(workload);
        expect({ workload: workload.metadata.name, pod: spec.securityContext }).toMatchObject({
          pod: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        });
        for (const container of spec.containers) {
          expect({ workload: workload.metadata.name, container }).toMatchObject({
            container: {
              startupProbe: { httpGet: { path: '/health/live', port: 'http' } },
              livenessProbe: { httpGet: { path: '/health/live', port: 'http' } },
              readinessProbe: { httpGet: { path: '/health/ready', port: 'http' } },
              resources: { requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { memory: expect.any(String) } },
              securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          });
        }
      }
    });

    it('serves /metrics on a port of its own, apart from the public one', () => {
      for (const workload of ofKind(manifests, 'Deployment')) {
        const container = podTemplate(workload).spec.containers[0];
        const ports = Object.fromEntries((container.ports ?? []).map((port) => [port.name, port.containerPort]));
        expect(ports.metrics).toBeDefined();
        expect(ports.metrics).not.toBe(ports.http);
        const configMapName = container.envFrom?.find((source) => source.configMapRef)?.configMapRef?.name;
        const config = ofKind(manifests, 'ConfigMap').find((configMap) => configMap.metadata.name === configMapName);
        expect(config?.data).toMatchObject({ PORT: String(ports.http), METRICS_PORT: String(ports.metrics) });
      }
    });

    it('gives every service a PodDisruptionBudget that selects its pods', () => {
      const budgets = ofKind(manifests, 'PodDisruptionBudget');
      for (const workload of ofKind(manifests, 'Deployment')) {
        const labels = podTemplate(workload).metadata.labels;
        const covering = budgets.filter((budget) => selects((budget.spec as { selector: LabelSelector }).selector, labels));
        expect({ workload: workload.metadata.name, budgets: covering.length }).toEqual({ workload: workload.metadata.name, budgets: 1 });
      }
    });

    it('lets only the gateway have an Ingress, for its public routes only, with TLS', () => {
      for (const ingress of ofKind(manifests, 'Ingress')) {
        const spec = ingress.spec as {
          tls?: Array<{ secretName: string }>;
          rules: Array<{ http: { paths: Array<{ path: string; backend: { service: { name: string; port: { name: string } } } }> } }>;
        };
        const paths = spec.rules.flatMap((rule) => rule.http.paths);
        expect(paths.map((entry) => entry.path).sort()).toEqual(['/agents/runs/', '/files/', '/graphql', '/graphql/ws', '/webhooks/jira/']);
        expect(new Set(paths.map((entry) => `${entry.backend.service.name}:${entry.backend.service.port.name}`))).toEqual(new Set(['multipult-gateway:http']));
        expect(spec.tls?.[0]?.secretName).toBeTruthy();
      }
      expect(ofKind(manifests, 'Ingress')).toHaveLength(name === 'production' ? 1 : 0);
    });

    it('names real pods in every NetworkPolicy', () => {
      const pods = [...ofKind(manifests, 'Deployment'), ...ofKind(manifests, 'Job')].map((workload) => podTemplate(workload).metadata.labels);
      const policies = ofKind(manifests, 'NetworkPolicy');
      expect(policies.length).toBe(name === 'minimal' ? 0 : SERVICES.length);
      for (const policy of policies) {
        const spec = policy.spec as { podSelector: LabelSelector; ingress?: Array<{ from?: Peer[] }>; egress?: Array<{ to?: Peer[] }> };
        expect({ policy: policy.metadata.name, selects: pods.some((labels) => selects(spec.podSelector, labels)) }).toEqual({ policy: policy.metadata.name, selects: true });
        const peers = [...(spec.ingress ?? []).flatMap((rule) => rule.from ?? []), ...(spec.egress ?? []).flatMap((rule) => rule.to ?? [])];
        for (const peer of peers.filter((candidate) => candidate.podSelector && !candidate.namespaceSelector)) {
          const selector = peer.podSelector as LabelSelector;
          expect({ policy: policy.metadata.name, peer: selector, matches: pods.some((labels) => selects(selector, labels)) }).toEqual({
            policy: policy.metadata.name,
            peer: selector,
            matches: true,
          });
        }
      }
    });

    it('lets a subgraph be called only by the gateway and the services that call it', () => {
      const policies = ofKind(manifests, 'NetworkPolicy');
      if (!policies.length) return;
      const callersOf = (service: string) => {
        const policy = policies.find((candidate) => candidate.metadata.name === `multipult-${service}`);
        const rules = (policy?.spec as { ingress: Array<{ ports: Array<{ port: string }>; from?: Peer[] }> }).ingress;
        const http = rules.find((rule) => rule.ports.some((port) => port.port === 'http'));
        // Each caller's pods: those serving, and its workers where it runs them.
        return http?.from?.map((peer) => peer.podSelector?.matchExpressions?.find((expression) => expression.key === 'app.kubernetes.io/name')?.values?.[0]).sort();
      };
      expect(callersOf('gateway')).toBeUndefined();
      expect(callersOf('content')).toEqual(['export', 'gateway']);
      expect(callersOf('notifications')).toEqual(['gateway']);
      expect(callersOf('auth')).toEqual(['agents', 'content', 'export', 'gateway', 'notifications']);
    });

    it('migrates each subgraph in a pre-install/pre-upgrade Job that reads hook-created config, and the replicas skip migrations', () => {
      const jobs = ofKind(manifests, 'Job');
      expect(jobs.map((job) => job.metadata.name).sort()).toEqual(SUBGRAPH_SERVICES.map((service) => `multipult-${service.name}-migrate`).sort());
      for (const job of jobs) {
        expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
        const container = podTemplate(job).spec.containers[0];
        expect(container.args?.at(-1)).toBe('migrate');
        const service = job.metadata.name.replace(/-migrate$/, '');
        const config = ofKind(manifests, 'ConfigMap').find((configMap) => configMap.metadata.name === service);
        expect(config?.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
        expect(Number(config?.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations?.['helm.sh/hook-weight']));
        expect(config?.data?.DATABASE_MIGRATIONS_RUN).toBe('false');
        const labels = podTemplate(job).metadata.labels;
        const service_ = ofKind(manifests, 'Service').find((candidate) => candidate.metadata.name === service);
        expect(selects({ matchLabels: (service_?.spec as { selector: Record<string, string> }).selector }, labels)).toBe(false);
      }
    });

    it('autoscales every Deployment unless autoscaling is off', () => {
      const autoscalers = ofKind(manifests, 'HorizontalPodAutoscaler');
      const targets = autoscalers.map((hpa) => (hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).sort();
      const deployments = ofKind(manifests, 'Deployment').map((deployment) => deployment.metadata.name).sort();
      expect(targets).toEqual(name === 'minimal' ? [] : deployments);
    });
  });

  it('with workers.enabled, runs a service\'s background work on worker pods the Service never routes to, and its own pods only serve', async () => {
    const plain = await umbrella('default');
    const manifests = await render('multipult', {
      release: 'multipult',
      set: {
        'content.workers.enabled': 'true',
        'content.workers.relayOutbox': 'true',
        'content.workers.replicaCount': '3',
        'content.workers.autoscaling.enabled': 'false',
        'content.workers.resources.requests.cpu': '250m',
        'content.workers.resources.requests.memory': '384Mi',
        'content.workers.resources.limits.memory': '768Mi',
        'notifications.workers.enabled': 'true',
        'global.metrics.serviceMonitor.enabled': 'true',
      },
    });
    expect(await schemaProblems(manifests)).toEqual([]);
    const named = (kind: string, name: string) => ofKind(manifests, kind).find((manifest) => manifest.metadata.name === name) as Manifest;
    const switches = (deployment: Manifest) =>
      Object.fromEntries((podTemplate(deployment).spec.containers[0].env ?? []).filter((variable) => variable.name.endsWith('_ENABLED')).map((variable) => [variable.name, variable.value]));
    const serving = named('Deployment', 'multipult-content');
    const worker = named('Deployment', 'multipult-content-worker');
    expect(switches(serving)).toEqual({ EVENT_CONSUMERS_ENABLED: 'false', JOBS_WORKERS_ENABLED: 'false', OUTBOX_RELAY_ENABLED: 'false' });
    expect(switches(worker)).toEqual({});
    expect(switches(named('Deployment', 'multipult-auth'))).toEqual({});
    const relayingOwnCommits = await render('content', { release: 'content', set: { 'workers.enabled': 'true' } });
    const servingAlone = relayingOwnCommits.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'multipult-content') as Manifest;
    expect(switches(servingAlone)).toEqual({ EVENT_CONSUMERS_ENABLED: 'false', JOBS_WORKERS_ENABLED: 'false' });
    const [servingContainer, workerContainer] = [serving, worker].map((deployment) => podTemplate(deployment).spec.containers[0]);
    expect(workerContainer.image).toBe(servingContainer.image);
    expect(workerContainer.envFrom).toEqual(servingContainer.envFrom);
    expect(workerContainer.resources).toEqual({ requests: { cpu: '250m', memory: '384Mi' }, limits: { memory: '768Mi' } });
    expect((worker.spec as { replicas: number }).replicas).toBe(3);
    // The serving Deployment keeps its selector, which Kubernetes does not let an upgrade change.
    const plainContent = plain.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'multipult-content') as Manifest;
    expect((serving.spec as { selector: unknown }).selector).toEqual((plainContent.spec as { selector: unknown }).selector);
    const serviceSelector = { matchLabels: (named('Service', 'multipult-content').spec as { selector: Record<string, string> }).selector };
    expect(selects(serviceSelector, podTemplate(serving).metadata.labels)).toBe(true);
    expect(selects(serviceSelector, podTemplate(worker).metadata.labels)).toBe(false);
    expect(worker.metadata.labels?.['app.kubernetes.io/component']).toBe('worker');
    const autoscaled = ofKind(manifests, 'HorizontalPodAutoscaler').map((hpa) => (hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name);
    expect(autoscaled).toEqual(expect.arrayContaining(['multipult-content', 'multipult-notifications', 'multipult-notifications-worker']));
    expect(autoscaled).not.toContain('multipult-content-worker');
    // Scraped through a headless metrics-only Service the service's ServiceMonitor selects.
    const workerMetrics = named('Service', 'multipult-content-worker').spec as { clusterIP: string; selector: Record<string, string>; ports: Array<{ name: string }> };
    expect(workerMetrics.clusterIP).toBe('None');
    expect(workerMetrics.ports.map((port) => port.name)).toEqual(['metrics']);
    expect(selects({ matchLabels: workerMetrics.selector }, podTemplate(worker).metadata.labels)).toBe(true);
    const monitor = named('ServiceMonitor', 'multipult-content').spec as { selector: LabelSelector };
    expect(selects(monitor.selector, named('Service', 'multipult-content-worker').metadata.labels ?? {})).toBe(true);
    // The service's NetworkPolicy holds for its workers, and the services content calls admit them.
    const policySelects = (policy: string, labels: Record<string, string>) => selects((named('NetworkPolicy', policy).spec as { podSelector: LabelSelector }).podSelector, labels);
    expect(policySelects('multipult-content', podTemplate(worker).metadata.labels)).toBe(true);
    const authHttpCallers = (named('NetworkPolicy', 'multipult-auth').spec as { ingress: Array<{ ports: Array<{ port: string }>; from?: Peer[] }> }).ingress.find((rule) =>
      rule.ports.some((port) => port.port === 'http'),
    );
    expect(authHttpCallers?.from?.some((peer) => peer.podSelector && selects(peer.podSelector, podTemplate(worker).metadata.labels))).toBe(true);
  });

  it('production values read every secret from Secrets ops manage, monitor every service and use the tag given', async () => {
    const manifests = await umbrella('production');
    expect(ofKind(manifests, 'Secret').map((secret) => secret.metadata.name).sort()).toEqual(
      ['multipult-agents', 'multipult-content', 'multipult-gateway'].sort(),
    );
    for (const workload of ofKind(manifests, 'Deployment')) {
      const container = podTemplate(workload).spec.containers[0];
      expect(container.image).toMatch(/^registry\.example\.com\/multipult\/[a-z]+:1\.4\.2$/);
    }
    const monitors = ofKind(manifests, 'ServiceMonitor');
    expect(monitors).toHaveLength(SERVICES.length);
    // The services' own `service` label must survive the scrape: the alerts and dashboards filter on it.
    for (const monitor of monitors) {
      expect((monitor.spec as { endpoints: unknown[] }).endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', honorLabels: true })]);
    }
    expect(ofKind(manifests, 'PrometheusRule')).toHaveLength(SERVICES.length);
    const content = ofKind(manifests, 'HorizontalPodAutoscaler').find((hpa) => hpa.metadata.name === 'multipult-content');
    expect((content?.spec as { metrics: Array<{ type: string }> }).metrics.map((metric) => metric.type)).toEqual(['Resource', 'Pods']);
  });

  it('default values generate the shared and per-service secrets, and connect to PostgreSQL and Redis through existing secrets', async () => {
    const manifests = await umbrella('default');
    const shared = ofKind(manifests, 'Secret').find((secret) => secret.metadata.name === 'multipult-shared');
    expect(Object.keys(shared?.data ?? {}).sort()).toEqual(['EMAIL_TOKEN_SEAL_KEY', 'INTERNAL_API_SECRET']);
    const auth = ofKind(manifests, 'Secret').find((secret) => secret.metadata.name === 'multipult-auth');
    expect(Buffer.from(auth?.data?.SIGNING_KEY_SECRET ?? '', 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
    const authPod = podTemplate(ofKind(manifests, 'Deployment').find((deployment) => deployment.metadata.name === 'multipult-auth') as Manifest).spec;
    expect(authPod.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'multipult-postgres', key: 'url' } } },
        { name: 'EMAIL_TOKEN_SEAL_KEY', valueFrom: { secretKeyRef: { name: 'multipult-shared', key: 'EMAIL_TOKEN_SEAL_KEY' } } },
      ]),
    );
    const contentPod = podTemplate(ofKind(manifests, 'Deployment').find((deployment) => deployment.metadata.name === 'multipult-content') as Manifest).spec;
    expect(contentPod.containers[0].env?.map((variable) => variable.name)).not.toContain('EMAIL_TOKEN_SEAL_KEY');
  });

  it('mounts the supergraph ConfigMap into the gateway, seeded with the committed supergraph', async () => {
    const manifests = await umbrella('default');
    const supergraph = ofKind(manifests, 'ConfigMap').find((configMap) => configMap.metadata.name === 'multipult-supergraph');
    expect(supergraph?.data?.['supergraph.graphql']).toBe(readFileSync(path.join(workspace, 'deploy/supergraph.graphql'), 'utf8').trimEnd());
    const gateway = ofKind(manifests, 'ConfigMap').find((configMap) => configMap.metadata.name === 'multipult-gateway');
    expect(gateway?.data).toMatchObject({ SUPERGRAPH_PATH: '/etc/multipult/supergraph/supergraph.graphql' });
    expect(gateway?.data?.SUBGRAPHS?.split(',')).toEqual(SUBGRAPH_SERVICES.map((service) => `${service.name}=http://multipult-${service.name}:${service.port}/graphql`));
  });

  it('refuses wrong values at install through values.schema.json', async () => {
    const refusals: Array<{ set: Record<string, string>; says: string }> = [
      { set: { 'auth.replicaCount': 'zero' }, says: 'replicaCount' },
      { set: { 'global.kafka.brokers': 'no port here' }, says: 'brokers' },
      { set: { 'gateway.replicas': '3' }, says: 'replicas' },
      { set: { 'export.image.pullPolicy': 'Sometimes' }, says: 'pullPolicy' },
      { set: { 'content.config.lowercase_name': 'x' }, says: 'lowercase_name' },
      { set: { 'gateway.ingress.paths[0].path': '/metrics', 'gateway.ingress.paths[0].pathType': 'Prefix' }, says: 'path' },
    ];
    for (const refusal of refusals) {
      await expect(render('multipult', { release: 'multipult', set: refusal.set })).rejects.toThrow(refusal.says);
    }
  });

  it('sets every retention from values, within the service\'s bounds', async () => {
    const manifests = await render('multipult', {
      release: 'multipult',
      set: { 'notifications.retention.webhookDeliveryDays': '3', 'export.retention.exportFileHours': '48', 'content.retention.outboxDays': '2' },
    });
    const config = (service: string) => ofKind(manifests, 'ConfigMap').find((configMap) => configMap.metadata.name === `multipult-${service}`)?.data;
    expect(config('notifications')).toMatchObject({ WEBHOOK_DELIVERY_RETENTION_DAYS: '3', EMAIL_RETENTION_DAYS: '30', OUTBOX_RETENTION_DAYS: '7' });
    expect(config('export')).toMatchObject({ EXPORT_FILE_TTL_HOURS: '48', INBOX_RETENTION_DAYS: '30' });
    expect(config('content')).toMatchObject({ OUTBOX_RETENTION_DAYS: '2', JOBS_PROGRESS_RETENTION_DAYS: '14', RETENTION_INTERVAL_SECONDS: '3600' });
    expect(config('gateway')).not.toHaveProperty('OUTBOX_RETENTION_DAYS');
    await expect(render('multipult', { release: 'multipult', set: { 'notifications.retention.emailDays': '0' } })).rejects.toThrow('emailDays');
    await expect(render('multipult', { release: 'multipult', set: { 'content.retention.emailDays': '5' } })).rejects.toThrow('emailDays');
  });

  it('lets one service be upgraded alone while the umbrella release leaves it out', async () => {
    const withoutExport = await render('multipult', { release: 'multipult', set: { 'export.enabled': 'false' } });
    expect(withoutExport.some((manifest) => manifest.metadata.name.startsWith('multipult-export'))).toBe(false);
    const exportAlone = await render('export', { release: 'export', set: { 'image.tag': '1.5.0' } });
    const names = new Set(exportAlone.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`));
    expect(names).toEqual(
      new Set(
        [
          'ServiceAccount/multipult-export',
          'ConfigMap/multipult-export',
          'Secret/multipult-export',
          'Deployment/multipult-export',
          'Service/multipult-export',
          'HorizontalPodAutoscaler/multipult-export',
          'PodDisruptionBudget/multipult-export',
          'NetworkPolicy/multipult-export',
          'Job/multipult-export-migrate',
        ],
      ),
    );
    const config = exportAlone.find((manifest) => manifest.kind === 'ConfigMap');
    expect(config?.data).toMatchObject({
      AUTH_JWKS_URL: 'http://multipult-auth:4001/.well-known/jwks.json',
      CONTENT_GRAPHQL_URL: 'http://multipult-content:4002/graphql',
    });
  });
});
