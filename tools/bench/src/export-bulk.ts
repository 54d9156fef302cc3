import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { DEFAULT_TEMPLATE, SAMPLE_SENTENCES, renderPdf, templateStylesSchema, type RenderDocument } from '@multipult/pdf';
import { graphqlData, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV } from './infrastructure';

/*
 * A bulk ZIP export through the platform: documents created through the gateway, one export of all
 * of them requested, polled until it succeeds. The baseline renders the same documents into a ZIP
 * in this process with the same renderer and archiver, with nothing else around it (no content
 * reads, delegation, progress, storage), so the ratio is what the service adds.
 */

export interface ExportBulkOptions {
  documents: number;
  /** Documents created at once through the gateway while seeding. */
  seedConcurrency?: number;
  /**
   * Caps the export service's V8 heap (--max-old-space-size, MiB): an export that kept its
   * documents would run out of memory, one that streams finishes. Unset: Node's default.
   */
  heapLimitMiB?: number;
}

export interface ExportBulkResult {
  documents: number;
  heapLimitMiB: number | null;
  seedSeconds: number;
  exportSeconds: number;
  documentsPerSecond: number;
  zipBytes: number;
  /** Peak resident memory of the export service process over its life (VmHWM). */
  exportPeakRssMiB: number;
  baselineSeconds: number;
  baselineDocumentsPerSecond: number;
  ratio: number;
}

/** About one printed page: headings, a list, a table and prose in the three scripts. */
function documentBody(index: number): string {
  const prose = [SAMPLE_SENTENCES.en, SAMPLE_SENTENCES.ru, SAMPLE_SENTENCES.tt].join(' ');
  return [
    `## Part ${index}`,
    '',
    `${prose} ${prose}`,
    '',
    '- first point with **emphasis**',
    '- second point with `code`',
    '',
    '| Language | Sample |',
    '| --- | --- |',
    `| en | ${SAMPLE_SENTENCES.en} |`,
    `| ru | ${SAMPLE_SENTENCES.ru} |`,
    '',
    `> ${SAMPLE_SENTENCES.tt}`,
    '',
    `${prose}`,
  ].join('\n');
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** The same documents into a ZIP in this process: renderer and archiver only. */
async function baseline(documents: RenderDocument[]): Promise<number> {
  const template = { ...DEFAULT_TEMPLATE, styles: templateStylesSchema.parse(DEFAULT_TEMPLATE.styles) };
  const context = { title: 'Baseline', tenantName: 'Bench', exportedBy: 'bench', exportedAt: new Date(), documentCount: 1 };
  const started = performance.now();
  const zip = new ZipFile();
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const written = pipeline(zip.outputStream, sink);
  for (const [index, document] of documents.entries()) {
    const entry = new PassThrough();
    const consumed = new Promise((resolve) => entry.on('end', resolve));
    zip.addReadStream(entry, `${index}.pdf`, { compress: false });
    await renderPdf({ documents: [document], documentCount: 1, template, context: { ...context, title: document.title } }, entry);
    await consumed;
  }
  zip.end();
  await written;
  return (performance.now() - started) / 1000;
}

export async function exportBulk(options: ExportBulkOptions): Promise<ExportBulkResult> {
  const storage = await mkdtemp(path.join(os.tmpdir(), 'bench-export-'));
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', ACCESS_TOKEN_TTL_SECONDS: '3600' },
    notificationsEnv: BENCH_NOTIFICATIONS_ENV,
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
    serviceEnv: {
      export: {
        EXPORT_STORAGE_DIR: storage,
        JOBS_POLL_INTERVAL_SECONDS: '0.5',
        ...(options.heapLimitMiB ? { NODE_OPTIONS: `--max-old-space-size=${options.heapLimitMiB}` } : {}),
      },
    },
  });
  try {
    const gateway = platform.gatewayUrl;
    const email = `bench-export-${Date.now()}@example.com`;
    const registered = await graphqlData<{ register: { accessToken: string } }>(
      gateway,
      `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`,
      { variables: { input: { email, password: 'correct horse battery staple 7', displayName: 'Bench Exporter' } } },
    );
    const created = await graphqlData<{ createTenant: { tenant: { id: string } } }>(
      gateway,
      `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }`,
      { token: registered.register.accessToken, variables: { input: { name: 'Bench export', slug: `bench-export-${Date.now()}` } } },
    );
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
      gateway,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
      { token: registered.register.accessToken, variables: { input: { tenantId: created.createTenant.tenant.id } } },
    );
    const token = switched.switchTenant.accessToken;

    const seedStarted = performance.now();
    const documents: RenderDocument[] = Array.from({ length: options.documents }, (_, index) => ({
      id: '',
      title: `Bulk document ${index}`,
      body: documentBody(index),
      language: 'en',
    }));
    const ids: string[] = new Array(options.documents);
    let next = 0;
    await Promise.all(
      Array.from({ length: options.seedConcurrency ?? 8 }, async () => {
        for (let index = next++; index < options.documents; index = next++) {
          const result = await graphqlData<{ createDocument: { document: { id: string } } }>(
            gateway,
            `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
            { token, variables: { input: { title: documents[index].title, body: documents[index].body, type: 'ARTICLE', language: 'en' } } },
          );
          ids[index] = result.createDocument.document.id;
        }
      }),
    );
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const started = performance.now();
    const requested = await graphqlData<{ requestExport: { export: { id: string } } }>(
      gateway,
      `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { id } } }`,
      { token, variables: { input: { format: 'ZIP', title: 'Bulk', selection: { documentIds: ids } } } },
    );
    let status = 'QUEUED';
    let zipBytes = 0;
    while (!['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const polled = await graphqlData<{ export: { status: string; fileSize: number | null } }>(gateway, `query($id: ID!) { export(id: $id) { status fileSize } }`, {
        token,
        variables: { id: requested.requestExport.export.id },
      });
      status = polled.export.status;
      zipBytes = polled.export.fileSize ?? 0;
    }
    if (status !== 'SUCCEEDED') throw new Error(`the bulk export ended ${status}`);
    const exportSeconds = (performance.now() - started) / 1000;
    const exportPeakRssMiB = await peakRssMiB(platform.services.export.pid);
    const baselineSeconds = await baseline(documents);
    return {
      documents: options.documents,
      heapLimitMiB: options.heapLimitMiB ?? null,
      seedSeconds,
      exportSeconds,
      documentsPerSecond: options.documents / exportSeconds,
      zipBytes,
      exportPeakRssMiB,
      baselineSeconds,
      baselineDocumentsPerSecond: options.documents / baselineSeconds,
      ratio: exportSeconds / baselineSeconds,
    };
  } finally {
    await platform.stop();
    await rm(storage, { recursive: true, force: true });
  }
}

