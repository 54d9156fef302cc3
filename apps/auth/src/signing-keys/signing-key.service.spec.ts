import { metricsRegistry } from '@multipult/observability';
import { AuthTestApp, startAuthTestApp } from '../testing/auth-test-app';
import { SigningKeyService } from './signing-key.service';

// The signing keys as auth wires them, against the real PostgreSQL: the metric is read back from the
// registry /metrics serves.

describe('SigningKeyService', () => {
  let auth: AuthTestApp;

  beforeAll(async () => {
    auth = await startAuthTestApp('signing_keys');
  });

  afterAll(async () => {
    await auth?.close();
  });

  const activeKeyCreatedAt = async (): Promise<number | undefined> =>
    (await metricsRegistry.getSingleMetric('auth_signing_key_active_created_timestamp_seconds')?.get())?.values[0]?.value;
  const createdAtOf = async (kid: string): Promise<number> =>
    (await auth.dataSource.query('SELECT created_at FROM signing_keys WHERE kid = $1', [kid]))[0].created_at.getTime() / 1000;

  it('reports when the active key was created, and the new key once rotated', async () => {
    const [{ kid: first }] = await auth.dataSource.query('SELECT kid FROM signing_keys WHERE retired_at IS NULL');
    expect(await activeKeyCreatedAt()).toBe(await createdAtOf(first));

    const rotated = await auth.get(SigningKeyService).rotate();

    expect(rotated).not.toBe(first);
    expect(await activeKeyCreatedAt()).toBe(await createdAtOf(rotated));
  });
});
