import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { DEVELOPMENT_FILE_LINK_SECRET } from '@multipult/files';
import { SAMPLE_IMAGE_DATA_URI } from '@multipult/pdf';
import { fromBuffer, Entry, ZipFile } from 'yauzl';
import {
  GraphQLResult,
  RealtimeClient,
  connectRealtime,
  eventually,
  findTenantIsolationViolations,
  graphql,
  graphqlData,
  readPdf,
} from '@multipult/testing';
import { Account, addTenantMember, createTenantFor, registerAccount } from './support/accounts';
import { expiredCopyOf, tamperedCopyOf } from './support/downloads';
import { inbox } from './support/notifications';
import { PlatformOf, usePlatform } from './support/platforms';

const EXPORT_FIELDS = 'id title format status progress progressMessage itemCount doneCount templateVersionId recipientWatermark fileName fileSize fileSha256 expiresAt errorCode';

interface ExportView {
  id: string;
  title: string;
  format: string;
  status: string;
  progress: number;
  progressMessage: string;
  itemCount: number;
  doneCount: number;
  templateVersionId: string | null;
  recipientWatermark: boolean;
  fileName: string | null;
  fileSize: number | null;
  fileSha256: string | null;
  expiresAt: string | null;
  errorCode: string | null;
}

const REQUEST = `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { ${EXPORT_FIELDS} } } }`;
const ONE = `query($id: ID!) { export(id: $id) { ${EXPORT_FIELDS} items(first: 100) { edges { node { documentId status sha256 } } } } }`;
const LINK = `mutation($id: ID!) { exportDownloadLink(id: $id) { url expiresAt } }`;
const SCHEDULE = `mutation($input: CreateExportScheduleInput!) { createExportSchedule(input: $input) { id nextRunAt enabled } }`;

/** Latin, Cyrillic and Tatar letters, as the fonts must cover. */
const TRILINGUAL = {
  en: 'The quick brown fox jumps over the lazy dog.',
  ru: 'Съешь же ещё этих мягких французских булок.',
  tt: 'Әни белән әти җәйге бакчада үләннәр һәм гөлләр үстерә.',
};

describe('export service through the gateway', () => {
  let platform: PlatformOf<'default'>;
  let admin: Account & { token: string; tenantId: string };
  const clients: RealtimeClient[] = [];

  const as = <T>(token: string, query: string, variables: Record<string, unknown> = {}) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });
  const attempt = <T>(token: string, query: string, variables: Record<string, unknown> = {}) => graphql<T>(platform.gatewayUrl, query, { token, variables });

  async function tenantAdmin(name: string): Promise<Account & { token: string; tenantId: string }> {
    const account = await registerAccount(platform.gatewayUrl, name);
    const { tenantId, accessToken } = await createTenantFor(platform.gatewayUrl, account);
    return { ...account, token: accessToken, tenantId };
  }

  async function document(token: string, title: string, body: string, publish = true): Promise<string> {
    const created = await as<{ createDocument: { document: { id: string } } }>(
      token,
      `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
      { input: { title, body, type: 'ARTICLE', language: 'en' } },
    );
    const id = created.createDocument.document.id;
    if (publish) await as(token, `mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`, { input: { id } });
    return id;
  }

  async function finished(token: string, id: string, timeoutMs = 60_000): Promise<ExportView> {
    return eventually(
      `export ${id} finished`,
      async () => {
        const { export: found } = await as<{ export: ExportView }>(token, ONE, { id });
        return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(found.status) ? found : undefined;
      },
      timeoutMs,
    );
  }

  /** A statement on the platform's database, for what a test cannot wait for (a week to pass, a file to expire). */
  async function platformQuery(sql: string, params: unknown[]): Promise<void> {
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      await client.query(sql, params);
    } finally {
      await client.end();
    }
  }

  async function fetchFile(url: string): Promise<{ status: number; bytes: Buffer; contentType: string | null }> {
    const response = await fetch(new URL(url, platform.gateway.url), { signal: AbortSignal.timeout(30_000) });
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') };
  }

  beforeAll(async () => {
    platform = await usePlatform('default');
    admin = await tenantAdmin('export-admin');
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
  });

  it('renders one document with a template version and a per-recipient watermark, follows it live, and notifies the owner', async () => {
    const body = [`# ${TRILINGUAL.en}`, '', TRILINGUAL.ru, '', TRILINGUAL.tt, '', '| Script | Sample |', '|---|---|', '| Latin | fox |', '| Cyrillic | булок |'].join('\n');
    const documentId = await document(admin.token, 'Trilingual handbook', body);
    const template = await as<{ createExportTemplate: { id: string; latestVersion: number; versions: { id: string; version: number }[] } }>(
      admin.token,
      `mutation($input: CreateExportTemplateInput!) { createExportTemplate(input: $input) { id latestVersion versions { id version } } }`,
      { input: { name: 'Handbook', definition: { titlePage: '# {{title}}', header: 'Acme handbook', footer: 'Template one · {{page}}/{{pages}}' } } },
    );
    const templateId = template.createExportTemplate.id;
    const versionOne = template.createExportTemplate.versions[0].id;
    const second = await as<{ addExportTemplateVersion: { latestVersion: number; versions: { id: string; version: number }[] } }>(
      admin.token,
      `mutation($input: AddExportTemplateVersionInput!) { addExportTemplateVersion(input: $input) { latestVersion versions { id version } } }`,
      { input: { templateId, definition: { titlePage: '', header: 'Acme handbook', footer: 'Template two · {{page}}/{{pages}}' } } },
    );
    expect(second.addExportTemplateVersion.latestVersion).toBe(2);

    const requested = await as<{ requestExport: { export: ExportView } }>(admin.token, REQUEST, {
      input: {
        format: 'PDF',
        selection: { documentIds: [documentId] },
        templateId,
        templateVersion: 1,
        watermark: { text: 'CONFIDENTIAL', opacity: 0.2, rotationDegrees: 30 },
        recipientWatermark: true,
      },
    });
    const queued = requested.requestExport.export;
    expect(queued).toMatchObject({ status: 'QUEUED', format: 'PDF', itemCount: 1, templateVersionId: versionOne, recipientWatermark: true });

    const live = connectRealtime(platform.realtimeUrl, { authorization: `Bearer ${admin.token}` });
    clients.push(live);
    const progress = live.subscribe<{ exportProgress: { status: string; progress: number } }>(
      `subscription($id: ID!) { exportProgress(id: $id) { status progress } }`,
      { id: queued.id },
    );
    const done = await finished(admin.token, queued.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', progress: 100, doneCount: 1 });
    await eventually('the subscription saw the end', async () => progress.values.some((value) => value.exportProgress.status === 'SUCCEEDED') || undefined, 15_000);
    expect(progress.errors).toEqual([]);

    // A new template version never changes a past export.
    await as(admin.token, `mutation($input: AddExportTemplateVersionInput!) { addExportTemplateVersion(input: $input) { latestVersion } }`, {
      input: { templateId, definition: { titlePage: '', header: 'x', footer: 'Template three' } },
    });
    expect((await as<{ export: ExportView }>(admin.token, ONE, { id: queued.id })).export.templateVersionId).toBe(versionOne);

    const link = await as<{ exportDownloadLink: { url: string } }>(admin.token, LINK, { id: queued.id });
    expect(link.exportDownloadLink.url).toMatch(/^\/files\/export\/export\//);
    const file = await fetchFile(link.exportDownloadLink.url);
    expect(file.status).toBe(200);
    expect(file.contentType).toContain('application/pdf');
    const pdf = await readPdf(file.bytes);
    const text = pdf.pages.join('\n');
    for (const sentence of Object.values(TRILINGUAL)) expect(text.replace(/\s+/g, ' ')).toContain(sentence);
    expect(text).toContain('Template one');
    expect(text).not.toContain('Template two');
    for (const page of pdf.pages) {
      expect(page).toContain('CONFIDENTIAL');
      expect(page).toContain(`Downloaded by export-admin <${admin.email}>`);
    }

    const notification = await eventually(
      'export_ready notification',
      async () => (await inbox(platform.gatewayUrl, admin.token, { types: ['export_ready'] })).nodes[0],
      30_000,
    );
    expect(notification.link).toContain(`/exports/${queued.id}`);
    const email = await platform.smtp.waitFor((message) => message.to.includes(admin.email) && message.subject.includes('Trilingual handbook'), 30_000);
    expect(email.text).toContain(`/exports/${queued.id}`);
  });

  it('exports a collection as a ZIP of PDFs with a SHA-256 manifest', async () => {
    const ids: string[] = [];
    for (const title of ['Alpha', 'Beta', 'Gamma']) ids.push(await document(admin.token, title, `${title} body with **emphasis**`));
    const collection = await as<{ createCollection: { collection: { id: string } } }>(
      admin.token,
      `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { collection { id } } }`,
      { input: { title: 'Greek letters' } },
    );
    const collectionId = collection.createCollection.collection.id;
    for (const documentId of ids) {
      await as(admin.token, `mutation($input: AddDocumentToCollectionInput!) { addDocumentToCollection(input: $input) { collection { id } } }`, {
        input: { collectionId, documentId },
      });
    }
    const requested = await as<{ requestExport: { export: ExportView } }>(admin.token, REQUEST, {
      input: { format: 'ZIP', title: 'Greek letters', selection: { collectionId } },
    });
    const done = await finished(admin.token, requested.requestExport.export.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', itemCount: 3 });
    const { exportDownloadLink } = await as<{ exportDownloadLink: { url: string } }>(admin.token, LINK, { id: done.id });
    const file = await fetchFile(exportDownloadLink.url);
    expect(file.status).toBe(200);
    expect(createHash('sha256').update(file.bytes).digest('hex')).toBe(done.fileSha256);

    const entries = await unzip(file.bytes);
    const manifest = JSON.parse(entries.get('manifest.json')?.toString('utf8') ?? '{}') as { files: { name: string; documentId: string; sha256: string; bytes: number }[] };
    expect(manifest.files.map((entry) => entry.documentId)).toEqual(ids);
    for (const entry of manifest.files) {
      const bytes = entries.get(entry.name) as Buffer;
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
      expect(bytes.length).toBe(entry.bytes);
      expect((await readPdf(bytes)).pages.join(' ')).toContain('body with emphasis');
    }
  });

  it('exports only what the requester can read: a reader never exports a draft they cannot see', async () => {
    const draft = await document(admin.token, 'Secret draft', 'not for readers', false);
    const reader = await addTenantMember(platform.gatewayUrl, { token: admin.token, tenantId: admin.tenantId }, 'export-reader', 'member');
    const refused = await attempt(reader.token, REQUEST, { input: { format: 'PDF', selection: { documentIds: [draft] } } });
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const mine = await as<{ exports: { totalCount: number } }>(reader.token, `{ exports { totalCount } }`);
    expect(mine.exports.totalCount).toBe(0);
  });

  it('cancels a running export: it stops, keeps no file and cannot be downloaded', async () => {
    const ids: string[] = [];
    const longBody = Array.from({ length: 40 }, (_, index) => `## Section ${index}\n\n${TRILINGUAL.en} ${TRILINGUAL.ru}`).join('\n\n');
    for (let index = 0; index < 80; index += 10) {
      ids.push(...(await Promise.all(Array.from({ length: 10 }, (_, offset) => document(admin.token, `Long ${index + offset}`, longBody)))));
    }
    const requested = await as<{ requestExport: { export: ExportView } }>(admin.token, REQUEST, { input: { format: 'PDF', selection: { documentIds: ids } } });
    const id = requested.requestExport.export.id;
    await eventually('the export runs', async () => (await as<{ export: ExportView }>(admin.token, ONE, { id })).export.status === 'RUNNING' || undefined, 30_000);
    const cancelled = await as<{ cancelExport: { export: ExportView } }>(admin.token, `mutation($id: ID!) { cancelExport(id: $id) { export { ${EXPORT_FIELDS} } } }`, { id });
    expect(cancelled.cancelExport.export.status).toBe('CANCELLED');
    const again = await attempt(admin.token, `mutation($id: ID!) { cancelExport(id: $id) { export { id } } }`, { id });
    expect(again.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
    const after = (await as<{ export: ExportView }>(admin.token, ONE, { id })).export;
    expect(after).toMatchObject({ status: 'CANCELLED', fileName: null });
    expect(after.doneCount).toBeLessThan(80);
    const link = await attempt(admin.token, LINK, { id });
    expect(link.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
  });

  it('signs short-lived links bound to one file: expired, tampered or moved to another file, they are refused', async () => {
    const first = await document(admin.token, 'Linked one', 'first file');
    const second = await document(admin.token, 'Linked two', 'second file');
    const exports: ExportView[] = [];
    for (const documentId of [first, second]) {
      const requested = await as<{ requestExport: { export: ExportView } }>(admin.token, REQUEST, { input: { format: 'PDF', selection: { documentIds: [documentId] } } });
      exports.push(await finished(admin.token, requested.requestExport.export.id));
    }
    const links = await Promise.all(exports.map((done) => as<{ exportDownloadLink: { url: string; expiresAt: string } }>(admin.token, LINK, { id: done.id })));
    const [one, two] = links.map((link) => link.exportDownloadLink);
    expect(Date.parse(one.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    expect((await fetchFile(tamperedCopyOf(one.url))).status).toBe(403);
    expect((await fetchFile(await expiredCopyOf(one.url, DEVELOPMENT_FILE_LINK_SECRET))).status).toBe(410);
    // The first link's token on the second file's path: bound to the first file, refused.
    const token = new URL(one.url, 'http://gateway').searchParams.get('token');
    const swapped = `${new URL(two.url, 'http://gateway').pathname}?token=${token}`;
    expect((await fetchFile(swapped)).status).toBe(403);
    expect((await fetchFile(two.url)).status).toBe(200);
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const documentId = await document(admin.token, 'Input checks', 'body');
    const cases: [Record<string, unknown>, string][] = [
      [{ format: 'PDF', selection: {} }, 'BAD_USER_INPUT'],
      [{ format: 'PDF', selection: { documentIds: [documentId], collectionId: documentId } }, 'BAD_USER_INPUT'],
      [{ format: 'PDF', selection: { documentIds: [documentId, documentId] } }, 'BAD_USER_INPUT'],
      [{ format: 'PDF', selection: { documentIds: ['not-a-uuid'] } }, 'BAD_USER_INPUT'],
      [{ format: 'PDF', selection: { documentIds: [documentId] }, templateId: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND'],
      [{ format: 'PDF', selection: { documentIds: [documentId] }, watermark: { opacity: 0.5 } }, 'BAD_USER_INPUT'],
      [{ format: 'PDF', selection: { documentIds: [documentId] }, watermark: { imageBase64: Buffer.from('GIF89a').toString('base64') } }, 'BAD_USER_INPUT'],
      [{ format: 'JIRA', selection: { documentIds: [documentId] } }, 'BAD_USER_INPUT'],
    ];
    const before = (await as<{ exports: { totalCount: number } }>(admin.token, `{ exports { totalCount } }`)).exports.totalCount;
    for (const [input, code] of cases) {
      const result = await attempt(admin.token, REQUEST, { input });
      expect({ input, code: (result.errors?.[0] as { extensions?: { code?: string } })?.extensions?.code }).toEqual({ input, code });
    }
    const broken = await attempt(admin.token, `mutation($input: CreateExportTemplateInput!) { createExportTemplate(input: $input) { id } }`, {
      input: { name: 'Broken', definition: { titlePage: '{{#if title}}unclosed', header: '', footer: '' } },
    });
    expect(broken.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect((await as<{ exports: { totalCount: number } }>(admin.token, `{ exports { totalCount } }`)).exports.totalCount).toBe(before);
  });

  it('keeps tenants apart on every export operation', async () => {
    const other = await tenantAdmin('export-other');
    const documentId = await document(other.token, 'Other tenant', 'theirs');
    const requested = await as<{ requestExport: { export: ExportView } }>(other.token, REQUEST, { input: { format: 'PDF', selection: { documentIds: [documentId] } } });
    const foreignExport = (await finished(other.token, requested.requestExport.export.id)).id;
    const template = await as<{ createExportTemplate: { id: string } }>(
      other.token,
      `mutation($input: CreateExportTemplateInput!) { createExportTemplate(input: $input) { id } }`,
      { input: { name: 'Theirs', definition: { titlePage: '', header: '', footer: '' } } },
    );
    const foreignTemplate = template.createExportTemplate.id;
    const byId = (query: string) => (id: string) => attempt(admin.token, query, { id }) as Promise<GraphQLResult<unknown>>;
    const violations = await findTenantIsolationViolations([
      { name: 'export', kind: 'byId', call: byId(`query($id: ID!) { export(id: $id) { id } }`), foreignIds: [foreignExport] },
      { name: 'cancelExport', kind: 'byId', call: byId(`mutation($id: ID!) { cancelExport(id: $id) { export { id } } }`), foreignIds: [foreignExport] },
      { name: 'exportDownloadLink', kind: 'byId', call: byId(LINK), foreignIds: [foreignExport] },
      { name: 'exportTemplate', kind: 'byId', call: byId(`query($id: ID!) { exportTemplate(id: $id) { id } }`), foreignIds: [foreignTemplate] },
      {
        name: 'previewExportTemplate',
        kind: 'byId',
        call: (id) => attempt(admin.token, `mutation($input: PreviewExportTemplateInput!) { previewExportTemplate(input: $input) { url } }`, { input: { templateId: id } }),
        foreignIds: [foreignTemplate],
      },
      {
        name: 'exports',
        kind: 'list',
        call: () => attempt(admin.token, `{ exports(allMembers: true) { edges { node { id } } } }`),
        ownerCall: () => attempt(other.token, `{ exports(allMembers: true) { edges { node { id } } } }`),
        foreignIds: [foreignExport],
      },
      {
        name: 'exportTemplates',
        kind: 'list',
        call: () => attempt(admin.token, `{ exportTemplates { id } }`),
        ownerCall: () => attempt(other.token, `{ exportTemplates { id } }`),
        foreignIds: [foreignTemplate],
      },
    ]);
    expect(violations).toEqual([]);
    // Another tenant's document is one the caller cannot read: refused without saying whether it exists.
    const foreignDocument = await attempt(admin.token, REQUEST, { input: { format: 'PDF', selection: { documentIds: [documentId] } } });
    expect(foreignDocument.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('runs schedules: now on demand, and on its own once due (as a weekly digest would)', async () => {
    const documentId = await document(admin.token, 'Weekly digest item', 'digest body');
    const invalid = await attempt(admin.token, SCHEDULE, { input: { title: 'Broken', cron: 'every monday', format: 'PDF', selection: { documentIds: [documentId] } } });
    expect(invalid.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const created = await as<{ createExportSchedule: { id: string; nextRunAt: string; enabled: boolean } }>(admin.token, SCHEDULE, {
      input: { title: 'Weekly digest', cron: '0 8 * * 1', timeZone: 'Europe/Moscow', format: 'PDF', selection: { documentIds: [documentId] } },
    });
    const schedule = created.createExportSchedule;
    expect(schedule.enabled).toBe(true);
    expect(new Date(schedule.nextRunAt).getUTCDay()).toBe(1);
    expect(new Date(schedule.nextRunAt).getUTCHours()).toBe(5);

    const now = await as<{ runExportScheduleNow: { id: string; title: string } }>(admin.token, `mutation($id: ID!) { runExportScheduleNow(id: $id) { id title } }`, { id: schedule.id });
    expect(now.runExportScheduleNow.title).toMatch(/^Weekly digest · \d{4}-\d{2}-\d{2}$/);
    expect((await finished(admin.token, now.runExportScheduleNow.id)).status).toBe('SUCCEEDED');

    // Due now: the recurring check (EXPORT_SCHEDULE_CHECK_SECONDS) starts it and moves it to next Monday.
    await platformQuery(`UPDATE export.export_schedules SET next_run_at = now() - interval '1 second' WHERE id = $1`, [schedule.id]);
    const ran = await eventually(
      'the due schedule ran',
      async () => {
        const { exportSchedules } = await as<{ exportSchedules: { id: string; lastExportId: string | null; nextRunAt: string }[] }>(admin.token, `{ exportSchedules { id lastExportId nextRunAt } }`);
        const found = exportSchedules.find((candidate) => candidate.id === schedule.id);
        return found && found.lastExportId && found.lastExportId !== now.runExportScheduleNow.id ? found : undefined;
      },
      20_000,
    );
    expect(Date.parse(ran.nextRunAt)).toBeGreaterThan(Date.now());
    expect((await finished(admin.token, ran.lastExportId as string)).status).toBe('SUCCEEDED');
  });

  it('deletes files past their expiry and says so; links to them stop working', async () => {
    const documentId = await document(admin.token, 'Short-lived', 'expiring');
    const requested = await as<{ requestExport: { export: ExportView } }>(admin.token, REQUEST, { input: { format: 'PDF', selection: { documentIds: [documentId] } } });
    const done = await finished(admin.token, requested.requestExport.export.id);
    const link = await as<{ exportDownloadLink: { url: string } }>(admin.token, LINK, { id: done.id });
    await platformQuery(`UPDATE export.exports SET expires_at = now() - interval '1 second' WHERE id = $1`, [done.id]);
    const expired = await eventually(
      'the retention job deleted the file',
      async () => {
        const { export: found } = await as<{ export: ExportView & { fileDeletedAt: string | null } }>(admin.token, `query($id: ID!) { export(id: $id) { ${EXPORT_FIELDS} fileDeletedAt } }`, { id: done.id });
        return found.fileDeletedAt ? found : undefined;
      },
      20_000,
    );
    expect(expired.progressMessage).toBe('File expired and deleted');
    expect((await fetchFile(link.exportDownloadLink.url)).status).toBe(404);
    expect((await attempt(admin.token, LINK, { id: done.id })).errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
  });

  it('exports what a search finds, as the requester sees it', async () => {
    const word = `zephyr${randomUUID().slice(0, 8)}`;
    await document(admin.token, `Found by ${word}`, `The ${word} appears here.`);
    await document(admin.token, `Also ${word}`, `And ${word} again.`);
    const requested = await as<{ requestExport: { export: ExportView } }>(admin.token, REQUEST, { input: { format: 'PDF', selection: { search: { query: word } } } });
    expect(requested.requestExport.export.itemCount).toBe(2);
    const done = await finished(admin.token, requested.requestExport.export.id);
    const { exportDownloadLink } = await as<{ exportDownloadLink: { url: string } }>(admin.token, LINK, { id: done.id });
    const pdf = await readPdf((await fetchFile(exportDownloadLink.url)).bytes);
    expect(pdf.outline).toEqual(expect.arrayContaining([`Found by ${word}`, `Also ${word}`]));
  });

  it('draws the images a document links to, fetched for its PDF', async () => {
    const png = Buffer.from(SAMPLE_IMAGE_DATA_URI.split(',')[1], 'base64');
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/chart.png`;
      const documentId = await document(admin.token, 'Illustrated', `Before the chart.\n\n![Quarterly chart](${url})\n\nAfter the chart.`);
      const requested = await as<{ requestExport: { export: ExportView } }>(admin.token, REQUEST, { input: { format: 'PDF', selection: { documentIds: [documentId] } } });
      const done = await finished(admin.token, requested.requestExport.export.id);
      const { exportDownloadLink } = await as<{ exportDownloadLink: { url: string } }>(admin.token, LINK, { id: done.id });
      const pdf = await readPdf((await fetchFile(exportDownloadLink.url)).bytes);
      expect(pdf.imagesPerPage.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
      expect(pdf.pages.join(' ')).not.toContain('Quarterly chart');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('previews a template version on the sample document', async () => {
    const template = await as<{ createExportTemplate: { id: string } }>(
      admin.token,
      `mutation($input: CreateExportTemplateInput!) { createExportTemplate(input: $input) { id } }`,
      { input: { name: 'Preview me', definition: { titlePage: '# Sample of {{companyName}}', header: 'Preview header', footer: '{{page}}/{{pages}}', styles: { fontFamily: 'SERIF', tableOfContents: false } } } },
    );
    await as(admin.token, `mutation($input: SetExportBrandingInput!) { setExportBranding(input: $input) { companyName } }`, {
      input: { companyName: 'Acme Ltd', primaryColor: '#aa3300' },
    });
    const preview = await as<{ previewExportTemplate: { url: string } }>(
      admin.token,
      `mutation($input: PreviewExportTemplateInput!) { previewExportTemplate(input: $input) { url } }`,
      { input: { templateId: template.createExportTemplate.id } },
    );
    const file = await fetchFile(preview.previewExportTemplate.url);
    expect(file.status).toBe(200);
    const pdf = await readPdf(file.bytes);
    expect(pdf.pages.join('\n')).toContain('Sample of Acme Ltd');
    expect(pdf.pages.at(-1)).toContain('Preview header');
  });
});

function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    fromBuffer(bytes, { lazyEntries: true }, (error, zip: ZipFile) => {
      if (error) return reject(error);
      const entries = new Map<string, Buffer>();
      zip.on('entry', (entry: Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}
