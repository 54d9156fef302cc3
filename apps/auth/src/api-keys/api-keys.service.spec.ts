import { randomBytes } from 'node:crypto';
import { apiKeyKeys } from '@multipult/auth';
import { eventually } from '@multipult/testing';
import { SessionsService } from '../sessions/sessions.service';
import { TenantsService } from '../tenants/tenants.service';
import { AuthTestApp, startAuthTestApp } from '../testing/auth-test-app';
import { API_KEY_REPUBLISH_PAGE_SIZE, ApiKeysService } from './api-keys.service';

// The republication of every API key's standing to Redis, against the real PostgreSQL and Redis:
// page by page, and on its own as a recurring job (API_KEY_SYNC_SECONDS) of one replica.

const SYNC_SECONDS = 5;

describe('ApiKeysService republication', () => {
  let auth: AuthTestApp;
  let apiKeys: ApiKeysService;

  beforeAll(async () => {
    auth = await startAuthTestApp('api_keys', { API_KEY_SYNC_SECONDS: String(SYNC_SECONDS), JOBS_POLL_INTERVAL_SECONDS: '0.5' });
    apiKeys = auth.get(ApiKeysService);
  });

  afterAll(async () => {
    await auth?.close();
  });

  /** A user with a tenant of their own, and `count` keys in it written straight to the table (never published). */
  async function userWithUnpublishedKeys(count: number, revoked = false): Promise<string[]> {
    const signedUp = await auth.get(SessionsService).register({
      email: `keys-${randomBytes(4).toString('hex')}@example.com`,
      password: 'correct horse battery staple 7',
      displayName: 'Key Holder',
    });
    const { tenant } = await auth.get(TenantsService).create(signedUp.user.id, { name: 'Keys', slug: `keys-${randomBytes(4).toString('hex')}` });
    const rows: { key_hash: string }[] = await auth.dataSource.query(
      `INSERT INTO api_keys (user_id, tenant_id, name, prefix, key_hash, scopes, revoked_at)
       SELECT $1, $2, 'bulk ' || n, 'mpk_bulk', md5(gen_random_uuid()::text) || md5(gen_random_uuid()::text), ARRAY['*'], CASE WHEN $4 THEN now() END
       FROM generate_series(1, $3::int) AS n
       RETURNING key_hash`,
      [signedUp.user.id, tenant.id, count, revoked],
    );
    return rows.map((row) => row.key_hash);
  }

  const published = (hashes: string[]) => auth.store.getMany(hashes.map(apiKeyKeys.published));

  it('publishes every live key and withdraws revoked ones, more than a page of them, in pages', async () => {
    const live = await userWithUnpublishedKeys(API_KEY_REPUBLISH_PAGE_SIZE * 2 + 10);
    const revoked = await userWithUnpublishedKeys(3, true);
    for (const hash of revoked) await auth.store.set(apiKeyKeys.published(hash), '{"stale":true}');

    expect(await apiKeys.publish(null)).toBeGreaterThanOrEqual(live.length + revoked.length);

    const records = await published(live);
    expect(records.every((record) => record !== null)).toBe(true);
    expect(JSON.parse(records[0] as string)).toMatchObject({ permissions: ['*'] });
    expect(await published(revoked)).toEqual([null, null, null]);
  });

  it('republishes on its own, as a recurring job of API_KEY_SYNC_SECONDS', async () => {
    const [hash] = await userWithUnpublishedKeys(1);
    expect(await published([hash])).toEqual([null]);

    await eventually('the recurring republication', async () => (await published([hash]))[0] !== null, (SYNC_SECONDS + 10) * 1000);
  }, 30_000);
});
