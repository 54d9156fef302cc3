import net from 'node:net';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule, loadConfig } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { FilesModule } from '@multipult/files';
import { configureServiceApp } from '@multipult/graphql';
import { ObservabilityModule } from '@multipult/observability';
import { RedisModule } from '@multipult/redis';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { authConfigSchema } from '../config';
import { authMigrations } from '../migrations';
import { AuditEntry } from './audit-entry.entity';
import { AuditExports } from './audit-exports';
import { AuditLog } from './audit-log.service';
import { AuditApiModule, AuditModule } from './audit.module';

// The audit export as auth wires it (audit module, files module) against the real PostgreSQL of
// the jest global setup, downloaded over HTTP.
describe('audit CSV export links', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let baseUrl: string;
  let audit: AuditLog;
  let exports: AuditExports;

  beforeAll(async () => {
    database = await createTestDatabase('auth_audit_export');
    const config = loadConfig(authConfigSchema, { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: database.url });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: 'auth-spec', logLevel: 'silent' }),
        RedisModule.forRoot(),
        DatabaseModule.forRoot({ service: 'auth-spec', schema: 'auth', entities: [AuditEntry], migrations: authMigrations }),
        FilesModule.forRoot({ service: 'auth' }),
        AuditModule,
        AuditApiModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ bodyParser: false });
    configureServiceApp(app, { bodyLimit: '1kb' });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as net.AddressInfo).port}`;
    audit = app.get(AuditLog);
    exports = app.get(AuditExports);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const record = async (action: string, count: number) => {
    for (let i = 0; i < count; i += 1) await audit.record({ action, actorId: null, targetType: 'thing', targetId: `${action}-${i}`, details: { i } });
  };
  const csvRows = async (url: string) => {
    const response = await fetch(`${baseUrl}${url}`, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    return (await response.text()).trimEnd().split('\n').slice(1);
  };

  it('holds exactly the rows counted when the link was made, newest first, however many were written since', async () => {
    await record('pinned.early', 7);
    await record('other.action', 2);

    const exported = await exports.create({ action: 'pinned.' }, 5, 'user-1');
    await record('pinned.late', 3);

    expect(exported).toMatchObject({ rowCount: 5, truncated: true });
    const rows = await csvRows(exported.url);
    expect(rows.map((row) => row.split(',')[6])).toEqual(['pinned.early-6', 'pinned.early-5', 'pinned.early-4', 'pinned.early-3', 'pinned.early-2']);
    expect(rows[0]).toMatch(/^\d+,\d{4}-\d\d-\d\dT[\d:.]+Z,,pinned\.early,success,thing,pinned\.early-6,,,,,"{""i"":6}"$/);
  });

  it('reads the pinned rows in keyset batches that together are the rows of one query', async () => {
    await record('batched.x', 9);
    const pinned = await audit.pinExport({ action: 'batched.' }, 100);

    const inBatchesOfTwo: string[] = [];
    for await (const entry of audit.pinnedEntries(pinned, 2)) inBatchesOfTwo.push(entry.targetId as string);
    const atOnce: string[] = [];
    for await (const entry of audit.pinnedEntries(pinned, 1_000)) atOnce.push(entry.targetId as string);

    expect(pinned).toMatchObject({ rowCount: 9, truncated: false });
    expect(inBatchesOfTwo).toEqual(Array.from({ length: 9 }, (_, i) => `batched.x-${8 - i}`));
    expect(inBatchesOfTwo).toEqual(atOnce);
  });

  it('answers a header row alone when nothing matched, and keeps the filter inside the signed link', async () => {
    const empty = await exports.create({ action: 'nothing.' }, 5, 'user-1');
    expect(empty).toMatchObject({ rowCount: 0, truncated: false });
    expect(await csvRows(empty.url)).toEqual([]);

    const scoped = await exports.create({ action: 'other.action', from: new Date(Date.now() - 60_000) }, 5, 'user-1');
    expect(scoped.rowCount).toBe(2);
    expect((await csvRows(scoped.url)).map((row) => row.split(',')[3])).toEqual(['other.action', 'other.action']);
  });
});
