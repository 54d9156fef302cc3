import { SessionsService } from '../sessions/sessions.service';
import { AuthTestApp, startAuthTestApp } from '../testing/auth-test-app';
import { AccountErasureStatus, DataExportStatus } from './dto';
import { PrivacyService } from './privacy.service';

// Auth deployed alone (PRIVACY_PARTICIPANTS=none):
// no other service holds a user's data, so both sagas finish inside the request, against the real
// PostgreSQL and Redis.

describe('PrivacyService without participants', () => {
  let auth: AuthTestApp;
  let privacy: PrivacyService;
  let sessions: SessionsService;

  beforeAll(async () => {
    auth = await startAuthTestApp('privacy_alone', { PRIVACY_PARTICIPANTS: 'none' });
    privacy = auth.get(PrivacyService);
    sessions = auth.get(SessionsService);
  });

  afterAll(async () => {
    await auth?.close();
  });

  const newUser = async (name: string) =>
    (await sessions.register({ email: `${name}-${Date.now()}@example.com`, password: 'correct horse battery staple 7', displayName: name })).user.id;

  it('assembles an export at once, from auth alone', async () => {
    const userId = await newUser('exporter');
    const requested = await privacy.requestExport(userId);
    expect(requested).toMatchObject({ id: expect.any(String), status: DataExportStatus.READY, missingServices: [] });
    expect(requested.completedAt).toBeInstanceOf(Date);
    expect(await privacy.exportOf(userId, requested.id)).toMatchObject({ id: requested.id, status: DataExportStatus.READY });
  });

  it('erases an account at once, confirmed by nobody else', async () => {
    const userId = await newUser('leaver');
    const erasure = await privacy.requestErasure(userId, userId, 'self');
    expect(erasure).toMatchObject({ id: expect.any(String), userId, status: AccountErasureStatus.COMPLETED, pendingServices: [], confirmedServices: [] });
    expect(await auth.dataSource.query('SELECT 1 FROM users WHERE id = $1', [userId])).toEqual([]);
  });
});
