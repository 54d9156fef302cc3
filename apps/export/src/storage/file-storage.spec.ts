import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import S3rver from 's3rver';
import { FileMissingError, FileStorage } from './file-storage';
import { LocalFileStorage } from './local-file-storage';
import { S3FileStorage } from './s3-file-storage';

// One contract for every store: a local directory, and an S3-compatible bucket served by s3rver
// (a local server speaking the S3 REST protocol) through the AWS SDK.

const BUCKET = 'exports';

interface StoreUnderTest {
  storage: FileStorage;
  /** What the store holds under `prefix`, to check nothing is left behind. */
  listed(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

async function localStore(): Promise<StoreUnderTest> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'export-storage-'));
  return {
    storage: new LocalFileStorage(root),
    listed: (prefix) => readdir(path.join(root, prefix)).catch(() => []),
    close: () => rm(root, { recursive: true, force: true }),
  };
}

async function s3Store(): Promise<StoreUnderTest> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'export-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = (await server.run()) as AddressInfo;
  const storage = new S3FileStorage({
    bucket: BUCKET,
    prefix: 'tenant-files/',
    client: { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
  });
  return {
    storage,
    listed: async (prefix) => readdir(path.join(directory, BUCKET, 'tenant-files', prefix)).catch(() => []),
    close: async () => {
      storage.close();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

describe.each([
  ['a local directory', localStore],
  ['an S3-compatible bucket', s3Store],
])('file storage in %s', (_name, start) => {
  let store: StoreUnderTest;

  beforeEach(async () => {
    store = await start();
  });

  afterEach(() => store.close());

  const read = async (key: string) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.storage.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it('streams a file in, measuring its size and SHA-256, and back out', async () => {
    const parts = [Buffer.from('first part, '), Buffer.alloc(6 * 1024 * 1024, 7), Buffer.from('last part')];
    const stored = await store.storage.write('tenant/export/file.pdf', Readable.from(parts));
    const whole = Buffer.concat(parts);
    expect(stored).toEqual({ sizeBytes: whole.length, sha256: createHash('sha256').update(whole).digest('hex') });
    expect((await read('tenant/export/file.pdf')).equals(whole)).toBe(true);
  });

  it('leaves nothing behind when the source fails midway', async () => {
    let sent = 0;
    const failing = new Readable({
      read() {
        sent += 1;
        if (sent > 3) this.destroy(new Error('renderer failed'));
        else this.push(Buffer.alloc(1024 * 1024, sent));
      },
    });
    await expect(store.storage.write('tenant/export/broken.pdf', failing)).rejects.toThrow('renderer failed');
    expect((await store.listed('tenant/export')).filter((name) => name.startsWith('broken.pdf'))).toEqual([]);
    await expect(store.storage.read('tenant/export/broken.pdf')).rejects.toBeInstanceOf(FileMissingError);
  });

  it('refuses keys that leave its space', async () => {
    for (const key of ['../outside.pdf', '/etc/passwd', 'a/../../b', '']) {
      await expect(store.storage.write(key, Readable.from([Buffer.from('x')]))).rejects.toThrow('invalid storage key');
    }
  });

  it('deletes, and a deleted or unknown file reads as missing', async () => {
    await store.storage.write('t/e/f.zip', Readable.from([Buffer.from('zip')]));
    await store.storage.delete('t/e/f.zip');
    await store.storage.delete('t/e/f.zip');
    await expect(store.storage.read('t/e/f.zip')).rejects.toBeInstanceOf(FileMissingError);
  });
});
