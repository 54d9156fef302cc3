import { randomBytes } from 'node:crypto';
import { revocationKeys } from '@multipult/auth';
import {
  EventContract,
  OutboxWriter,
  SessionRevoked,
  UserDataExportPart,
  UserDataExportRequested,
  UserErasureCompleted,
  UserErasureRequested,
  UserRegistered,
  exportChunks,
} from '@multipult/events';
import { ErrorCode } from '@multipult/graphql';
import { PRIVACY_PARTICIPANT_NAMES } from '@multipult/registry';
import { eventually } from '@multipult/testing';
import { SessionsService } from '../sessions/sessions.service';
import { TenantsService } from '../tenants/tenants.service';
import { asRequestFrom, AuthTestApp, errorOf, outboxEvents, sessionIdOf, startAuthTestApp } from '../testing/auth-test-app';
import { AccountErasureStatus, DataExportStatus } from './dto';
import { EXPORT_FORMAT, PrivacyService } from './privacy.service';

// The GDPR sagas as auth coordinates them, against the real PostgreSQL and Redis. The spec stands in
// for the participants (the registry's, as PRIVACY_PARTICIPANTS defaults to): it answers requests by
// writing their replies to the outbox, from where the relay delivers them to auth's consumer. Time
// runs through the timeouts (1 s) and an explicit sweep, not through sleeping.

const PASSWORD = 'correct horse battery staple 7';
const [FIRST_PARTICIPANT, SECOND_PARTICIPANT] = PRIVACY_PARTICIPANT_NAMES;
const EXPORTS_PER_DAY = 2;

interface ErasureRow {
  user_id: string;
  participants: string[];
  status: string;
  confirmations: Record<string, { summary: Record<string, number> }>;
  completed_at: Date | null;
}

interface ExportDocument {
  format: string;
  userId: string;
  missingServices: string[];
  services: Record<string, Record<string, unknown>>;
}

describe('PrivacyService', () => {
  let auth: AuthTestApp;
  let privacy: PrivacyService;
  let sessions: SessionsService;

  beforeAll(async () => {
    auth = await startAuthTestApp('privacy', {
      ERASURE_TIMEOUT_SECONDS: '1',
      DATA_EXPORT_TIMEOUT_SECONDS: '1',
      DATA_EXPORTS_PER_DAY: String(EXPORTS_PER_DAY),
      // The spec sweeps itself, when it wants overdue work found.
      PRIVACY_SWEEP_SECONDS: '3600',
    });
    privacy = auth.get(PrivacyService);
    sessions = auth.get(SessionsService);
  });

  afterAll(async () => {
    await auth?.close();
  });

  it('takes its participants from the service registry', () => {
    expect(auth.config.PRIVACY_PARTICIPANTS).toEqual([...PRIVACY_PARTICIPANT_NAMES]);
    expect(PRIVACY_PARTICIPANT_NAMES.length).toBeGreaterThanOrEqual(2);
  });

  const newUser = async () => {
    const email = `user-${randomBytes(4).toString('hex')}@example.com`;
    const signedUp = await sessions.register({ email, password: PASSWORD, displayName: 'Privacy Test' });
    return { email, userId: signedUp.user.id, sessionId: sessionIdOf(signedUp.accessToken) };
  };
  /** What a participant does: its reply, written in a transaction of its own to the outbox the relay publishes. */
  const reply = <P>(contract: EventContract<P>, aggregateId: string, payload: P) =>
    auth.dataSource.transaction((manager) => auth.get(OutboxWriter).enqueue(manager, contract, { aggregateId, actorId: null, payload }));
  const confirm = async (erasureId: string, userId: string, service: string, summary: Record<string, number> = { rows: 1 }) =>
    (await reply(UserErasureCompleted, erasureId, { erasureId, userId, service, summary })).id;
  const sendPart = async (exportId: string, userId: string, service: string, data: unknown, options: { chunkSize: number; only?: number[] }) => {
    const chunks = exportChunks(data, options.chunkSize);
    const eventIds: string[] = [];
    // Last chunk first: the document is assembled by chunk number, not by arrival.
    for (const chunk of [...chunks.keys()].reverse()) {
      if (options.only && !options.only.includes(chunk)) continue;
      const sent = await reply(UserDataExportPart, exportId, { exportId, userId, service, chunk, chunkCount: chunks.length, data: chunks[chunk] });
      eventIds.push(sent.id);
    }
    return eventIds;
  };
  const handledByAuth = async (eventIds: string[]): Promise<boolean> =>
    (await auth.dataSource.query(`SELECT 1 FROM inbox WHERE consumer_group = 'auth.privacy' AND event_id = ANY($1::uuid[])`, [eventIds])).length ===
    eventIds.length;
  const erasureRow = async (erasureId: string): Promise<ErasureRow> =>
    (await auth.dataSource.query('SELECT user_id, participants, status, confirmations, completed_at FROM account_erasures WHERE id = $1', [erasureId]))[0];
  const exportRow = async (exportId: string): Promise<{ status: string; missing_services: string[]; document: ExportDocument | null }> =>
    (await auth.dataSource.query('SELECT status, missing_services, document FROM data_exports WHERE id = $1', [exportId]))[0];
  const userExists = async (userId: string): Promise<boolean> =>
    (await auth.dataSource.query('SELECT 1 FROM users WHERE id = $1', [userId])).length > 0;
  const auditDetails = async (action: string, targetId: string): Promise<Record<string, unknown>[]> =>
    (await auth.dataSource.query('SELECT details FROM audit_log WHERE action = $1 AND target_id = $2', [action, targetId])).map(
      (row: { details: Record<string, unknown> }) => row.details,
    );

  describe('erasure', () => {
    it('records the saga, asks every participant in one event, and shuts the account at once', async () => {
      const user = await newUser();
      const otherSession = sessionIdOf((await asRequestFrom('192.0.2.10', () => sessions.login({ email: user.email, password: PASSWORD }))).accessToken);

      const erasure = await privacy.requestErasure(user.userId, user.userId, 'self');

      expect(erasure).toMatchObject({
        userId: user.userId,
        status: AccountErasureStatus.PENDING,
        confirmedServices: [],
        pendingServices: [...PRIVACY_PARTICIPANT_NAMES],
      });
      expect(await erasureRow(erasure.id)).toMatchObject({ participants: [...PRIVACY_PARTICIPANT_NAMES], status: 'pending', confirmations: {} });
      const requested = (await outboxEvents(auth.dataSource, UserErasureRequested)).filter((event) => event.aggregateId === erasure.id);
      expect(requested.map((event) => event.payload)).toEqual([{ erasureId: erasure.id, userId: user.userId, participants: [...PRIVACY_PARTICIPANT_NAMES] }]);
      // Every session ends (rows, events, marks) and every token of the user stops.
      const revoked = (await outboxEvents(auth.dataSource, SessionRevoked)).filter((event) => event.payload.userId === user.userId);
      expect(revoked.map((event) => event.payload.sessionId).sort()).toEqual([user.sessionId, otherSession].sort());
      expect(revoked.every((event) => event.payload.reason === 'account_deleted')).toBe(true);
      expect(await auth.store.getMany([user.sessionId, otherSession].map(revocationKeys.session))).toEqual(['1', '1']);
      expect(await auth.store.get(revocationKeys.userTokensBefore(user.userId))).not.toBeNull();
      expect(await errorOf(sessions.login({ email: user.email, password: PASSWORD }))).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });

      // Asking again answers the saga under way, without asking the participants twice.
      expect((await privacy.requestErasure(user.userId, user.userId, 'self')).id).toBe(erasure.id);
      expect((await outboxEvents(auth.dataSource, UserErasureRequested)).filter((event) => event.payload.userId === user.userId)).toHaveLength(1);
    });

    it('completes once every participant confirmed, ignoring repeats and strangers, and deletes the account', async () => {
      const user = await newUser();
      const erasure = await privacy.requestErasure(user.userId, user.userId, 'self');

      const replies = [
        await confirm(erasure.id, user.userId, FIRST_PARTICIPANT, { documents: 3 }),
        await confirm(erasure.id, user.userId, FIRST_PARTICIPANT, { documents: 99 }),
        await confirm(erasure.id, user.userId, 'not-a-participant'),
      ];
      await eventually('the three replies to be consumed', () => handledByAuth(replies));

      expect(await privacy.erasure(erasure.id)).toMatchObject({ status: AccountErasureStatus.PENDING, confirmedServices: [FIRST_PARTICIPANT] });
      expect((await erasureRow(erasure.id)).confirmations[FIRST_PARTICIPANT].summary).toEqual({ documents: 3 });
      expect(await userExists(user.userId)).toBe(true);

      for (const service of PRIVACY_PARTICIPANT_NAMES.slice(1)) await confirm(erasure.id, user.userId, service);
      const completed = await eventually('the erasure to complete', async () => {
        const current = await privacy.erasure(erasure.id);
        return current.status === AccountErasureStatus.COMPLETED && current;
      });

      expect(completed).toMatchObject({ pendingServices: [], confirmedServices: [...PRIVACY_PARTICIPANT_NAMES], completedAt: expect.any(Date) });
      expect(Object.keys((await erasureRow(erasure.id)).confirmations).sort()).toEqual([...PRIVACY_PARTICIPANT_NAMES].sort());
      expect(await userExists(user.userId)).toBe(false);
      expect(await auditDetails('account.erased', user.userId)).toEqual([expect.objectContaining({ erasureId: erasure.id })]);
    });

    it('deletes the sent outbox rows about the user (their address and name among them) with the account, not other users\' rows', async () => {
      const user = await newUser();
      const other = await newUser();
      const sentRowsNaming = async (text: string): Promise<number> =>
        (await auth.dataSource.query(`SELECT count(*)::int AS count FROM outbox WHERE published_at IS NOT NULL AND strpos(envelope::text, $1) > 0`, [text]))[0]
          .count;
      const rowsNaming = async (text: string): Promise<number> =>
        (await auth.dataSource.query(`SELECT count(*)::int AS count FROM outbox WHERE strpos(envelope::text, $1) > 0`, [text]))[0].count;
      await eventually('both registrations to be sent', async () => (await sentRowsNaming(user.email)) > 0 && (await sentRowsNaming(other.email)) > 0);

      const erasure = await privacy.requestErasure(user.userId, user.userId, 'self');
      for (const service of PRIVACY_PARTICIPANT_NAMES) await confirm(erasure.id, user.userId, service);
      await eventually('the erasure to complete', async () => (await privacy.erasure(erasure.id)).status === AccountErasureStatus.COMPLETED);

      expect(await rowsNaming(user.email)).toBe(0);
      const registered = (await outboxEvents(auth.dataSource, UserRegistered)).map((event) => event.payload.userId);
      expect(registered).not.toContain(user.userId);
      expect(registered).toContain(other.userId);
      expect(await sentRowsNaming(other.email)).toBeGreaterThan(0);
      // The saga's own request (ids only) stays, for a participant's redelivery.
      expect((await outboxEvents(auth.dataSource, UserErasureRequested)).map((event) => event.aggregateId)).toContain(erasure.id);
    });

    it('is reported overdue by the sweep past ERASURE_TIMEOUT_SECONDS, and still completes when the last confirmation comes', async () => {
      const user = await newUser();
      const erasure = await privacy.requestErasure(user.userId, user.userId, 'admin');
      const first = await confirm(erasure.id, user.userId, FIRST_PARTICIPANT);
      await eventually('the first confirmation', () => handledByAuth([first]));

      await eventually('the sweep to find the erasure overdue', async () => {
        await privacy.sweep();
        return (await privacy.erasure(erasure.id)).status === AccountErasureStatus.OVERDUE;
      });

      expect(await auditDetails('account.erasure_overdue', user.userId)).toEqual([
        { erasureId: erasure.id, pendingServices: PRIVACY_PARTICIPANT_NAMES.slice(1) },
      ]);
      expect(await userExists(user.userId)).toBe(true);
      // A second sweep reports it no more.
      await privacy.sweep();
      expect(await auditDetails('account.erasure_overdue', user.userId)).toHaveLength(1);

      for (const service of PRIVACY_PARTICIPANT_NAMES.slice(1)) await confirm(erasure.id, user.userId, service);
      await eventually('the late erasure to complete', async () => (await privacy.erasure(erasure.id)).status === AccountErasureStatus.COMPLETED);
      expect(await userExists(user.userId)).toBe(false);
    });

    it('refuses to erase the only admin of a tenant others still use, and records nothing', async () => {
      const admin = await newUser();
      const colleague = await newUser();
      const tenants = auth.get(TenantsService);
      const { tenant } = await tenants.create(admin.userId, { name: 'Kept', slug: `kept-${randomBytes(4).toString('hex')}` });
      await tenants.addMember(tenant.id, { email: colleague.email, role: 'member' }, ['*']);

      expect(await errorOf(privacy.requestErasure(admin.userId, admin.userId, 'self'))).toMatchObject({
        code: ErrorCode.CONFLICT,
        messageKey: 'errors.sole_admin_of_tenants',
        params: { count: 1 },
      });
      expect(await auth.dataSource.query('SELECT 1 FROM account_erasures WHERE user_id = $1', [admin.userId])).toEqual([]);
      expect(await auth.store.get(revocationKeys.session(admin.sessionId))).toBeNull();
    });
  });

  describe('data export', () => {
    it(`allows ${EXPORTS_PER_DAY} exports per user and day (counted in Redis), then refuses with a retry delay`, async () => {
      const user = await newUser();
      for (let i = 0; i < EXPORTS_PER_DAY; i += 1) await privacy.requestExport(user.userId);

      const refused = await errorOf(privacy.requestExport(user.userId));

      expect(refused).toMatchObject({ code: ErrorCode.RATE_LIMITED, params: { retryAfterSeconds: expect.any(Number) } });
      expect(await privacy.exportsOf(user.userId)).toHaveLength(EXPORTS_PER_DAY);
      // Another user has a count of their own.
      await expect(privacy.requestExport((await newUser()).userId)).resolves.toMatchObject({ status: DataExportStatus.PENDING });
    });

    it('asks every participant and assembles one document from their chunked parts and its own', async () => {
      const user = await newUser();
      const exported = await privacy.requestExport(user.userId);
      expect(exported).toMatchObject({ status: DataExportStatus.PENDING, missingServices: [] });
      const requested = (await outboxEvents(auth.dataSource, UserDataExportRequested)).filter((event) => event.aggregateId === exported.id);
      expect(requested.map((event) => event.payload)).toEqual([{ exportId: exported.id, userId: user.userId, participants: [...PRIVACY_PARTICIPANT_NAMES] }]);

      const parts = Object.fromEntries(
        PRIVACY_PARTICIPANT_NAMES.map((service) => {
          const items = Array.from({ length: 20 }, (_, i) => ({ i, text: randomBytes(8).toString('hex') }));
          return [service, { service, items }];
        }),
      );
      const firstPart = await sendPart(exported.id, user.userId, FIRST_PARTICIPANT, parts[FIRST_PARTICIPANT], { chunkSize: 64 });
      expect(firstPart.length).toBeGreaterThan(2);
      await eventually('the first part to arrive', () => handledByAuth(firstPart));
      expect((await privacy.exportOf(user.userId, exported.id)).status).toBe(DataExportStatus.PENDING);
      for (const service of PRIVACY_PARTICIPANT_NAMES.slice(1)) await sendPart(exported.id, user.userId, service, parts[service], { chunkSize: 100_000 });

      const ready = await eventually('the export to be assembled', async () => {
        const row = await exportRow(exported.id);
        return row.status === DataExportStatus.READY && row;
      });

      expect(ready.missing_services).toEqual([]);
      expect(ready.document).toMatchObject({ format: EXPORT_FORMAT, userId: user.userId, missingServices: [], services: parts });
      expect(ready.document?.services.auth).toMatchObject({ profile: { id: user.userId, email: user.email } });
      expect(await auth.dataSource.query('SELECT 1 FROM data_export_parts WHERE export_id = $1', [exported.id])).toEqual([]);
      expect(await privacy.exportsOf(user.userId)).toEqual([expect.objectContaining({ id: exported.id, status: DataExportStatus.READY })]);
    });

    it('is assembled partial past DATA_EXPORT_TIMEOUT_SECONDS, naming the services whose parts are incomplete', async () => {
      const user = await newUser();
      const exported = await privacy.requestExport(user.userId);
      const firstPart = { service: FIRST_PARTICIPANT, items: [1, 2, 3] };
      const sent = await sendPart(exported.id, user.userId, FIRST_PARTICIPANT, firstPart, { chunkSize: 100_000 });
      // One chunk of two: an incomplete part counts as missing.
      const late = { service: SECOND_PARTICIPANT, text: randomBytes(64).toString('hex') };
      sent.push(...(await sendPart(exported.id, user.userId, SECOND_PARTICIPANT, late, { chunkSize: exportChunks(late)[0].length - 10, only: [0] })));
      await eventually('both parts to arrive', () => handledByAuth(sent));
      expect(await auth.dataSource.query('SELECT service, chunk FROM data_export_parts WHERE export_id = $1 ORDER BY service', [exported.id])).toEqual([
        { service: FIRST_PARTICIPANT, chunk: 0 },
        { service: SECOND_PARTICIPANT, chunk: 0 },
      ]);

      const partial = await eventually('the sweep to assemble the timed-out export', async () => {
        await privacy.sweep();
        const row = await exportRow(exported.id);
        return row.status === DataExportStatus.PARTIAL && row;
      });

      const missing = PRIVACY_PARTICIPANT_NAMES.slice(1);
      expect(partial.missing_services).toEqual(missing);
      expect(partial.document?.missingServices).toEqual(missing);
      expect(partial.document?.services).toEqual({ auth: expect.any(Object), [FIRST_PARTICIPANT]: firstPart });
      // A part arriving after assembly changes nothing.
      const latePart = await sendPart(exported.id, user.userId, SECOND_PARTICIPANT, late, { chunkSize: 100_000 });
      await eventually('the late part to be consumed', () => handledByAuth(latePart));
      expect(await exportRow(exported.id)).toMatchObject({ status: DataExportStatus.PARTIAL, missing_services: missing });
    });
  });
});
