import { counter } from './metrics';
import { startMetricsServer } from './metrics-server';

describe('startMetricsServer', () => {
  it('serves the registry on /metrics of its own port and nothing else', async () => {
    counter({ name: 'metrics_server_spec_total', help: 'A counter of this spec', labelNames: ['kind'] as const }).inc({ kind: 'probe' }, 3);
    const server = await startMetricsServer(0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const scrape = await fetch(`${base}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toContain('text/plain');
      expect(await scrape.text()).toContain('metrics_server_spec_total{kind="probe"} 3');
      expect((await fetch(`${base}/graphql`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
