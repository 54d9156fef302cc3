import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { sealSecret } from '@multipult/auth';
import { AppError, ErrorCode } from '@multipult/graphql';
import { eventually } from '@multipult/testing';
import { NotificationsTestApp, startNotificationsTestApp } from '../testing/notifications-test-app';
import { WEBHOOK_SECRET_CONTEXT } from './webhook-jobs';
import { WebhooksService } from './webhooks.service';

// SSRF protection with private networks refused (production's default), through the whole app
// module on real PostgreSQL: registration answers BAD_USER_INPUT for every spelling of a
// non-public address, and delivery refuses an endpoint saved before the check caught its URL.

describe('webhook targets (private networks refused)', () => {
  let app: NotificationsTestApp;
  let webhooks: WebhooksService;

  beforeAll(async () => {
    app = await startNotificationsTestApp('webhook_targets', { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', WEBHOOK_MAX_ATTEMPTS: '1' });
    webhooks = app.get(WebhooksService);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  const register = (url: string) => webhooks.create(randomUUID(), randomUUID(), { url, eventTypes: ['document.created'] });
  const refusal = async (url: string) => {
    const error = await register(url).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AppError);
    return { code: (error as AppError).code, problems: (error as AppError).fieldProblems };
  };

  it.each([
    'http://[::127.0.0.1]/hook',
    'http://[::7f00:1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://[::ffff:10.0.0.1]/hook',
    'http://[0:0:0:0:0:ffff:a9fe:a9fe]/latest/meta-data',
    'http://2130706433/hook',
    'http://0177.0.0.1/hook',
    'http://0x7f.1/hook',
    'http://127.1/hook',
    'http://127.0.0.1./hook',
    'http://0/hook',
    'http://[2002:7f00:0001::]/hook',
    'http://[64:ff9b::7f00:1]/hook',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook',
    'http://localhost./hook',
    'http://LOCALHOST:8080/hook',
    'https://api.localhost/hook',
  ])('refuses %s as a private target', async (url) => {
    expect(await refusal(url)).toEqual({ code: ErrorCode.BAD_USER_INPUT, problems: [{ field: 'url', key: 'errors.webhook_private_target', params: undefined }] });
  });

  it('refuses an IPv6 zone id as no URL at all, and registers a public address', async () => {
    expect(await refusal('http://[fe80::1%25eth0]/hook')).toEqual({
      code: ErrorCode.BAD_USER_INPUT,
      problems: [{ field: 'url', key: 'validation.webhookUrl', params: undefined }],
    });
    const { endpoint } = await register('https://[::ffff:5db8:d822]/hook');
    expect(endpoint.url).toBe('https://[::ffff:5db8:d822]/hook');
  });

  it('refuses at delivery, without connecting, an endpoint whose saved URL is a non-public literal', async () => {
    let received = 0;
    const server = http.createServer((_request, response) => {
      received += 1;
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const tenantId = randomUUID();
      const port = (server.address() as AddressInfo).port;
      // As saved by a version that accepted IPv4-mapped spellings of loopback.
      const [{ id: endpointId }] = await app.dataSource.query(
        `INSERT INTO webhook_endpoints (tenant_id, url, event_types, sealed_secret) VALUES ($1, $2, ARRAY['*'], $3) RETURNING id`,
        [tenantId, `http://[::ffff:127.0.0.1]:${port}/hook`, sealSecret('whsec_spec', app.config.WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_CONTEXT)],
      );
      const event = { id: randomUUID(), type: 'document.created', occurredAt: new Date().toISOString(), tenantId, payload: { title: 'Spec' } };
      await app.dataSource.transaction((manager) => webhooks.enqueue(manager, [event]));

      const failed = await eventually('the delivery refused', async () => {
        const [row] = await app.dataSource.query(`SELECT status, last_error, last_status_code FROM webhook_deliveries WHERE endpoint_id = $1`, [endpointId]);
        return row?.status === 'failed' && row;
      });
      expect(failed).toEqual({ status: 'failed', last_error: 'refusing to connect to non-public address ::ffff:7f00:1', last_status_code: null });
      expect(received).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
