import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FileMissingError } from './file-storage';
import { LocalFileStorage } from './local-file-storage';

describe('LocalFileStorage', () => {
  let root: string;
  let storage: LocalFileStorage;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'export-storage-'));
    storage = new LocalFileStorage(root);
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  const read = async (key: string) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it('streams a file in, measuring its size and SHA-256, and back out', async () => {
    const parts = [Buffer.from('first part, '), Buffer.from('second part')];
    const stored = await storage.write('tenant/export/file.pdf', Readable.from(parts));
    const whole = Buffer.concat(parts);
    expect(stored).toEqual({ sizeBytes: whole.length, sha256: createHash('sha256').update(whole).digest('hex') });
    expect(await read('tenant/export/file.pdf')).toEqual(whole);
  });

  it('leaves nothing behind when the source fails midway', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('renderer failed'));
      },
    });
    await expect(storage.write('tenant/export/broken.pdf', failing)).rejects.toThrow('renderer failed');
    expect(await readdir(path.join(root, 'tenant/export'))).toEqual([]);
    await expect(storage.read('tenant/export/broken.pdf')).rejects.toBeInstanceOf(FileMissingError);
  });

  it('refuses keys that leave its directory', async () => {
    for (const key of ['../outside.pdf', '/etc/passwd', 'a/../../b', '']) {
      await expect(storage.write(key, Readable.from([Buffer.from('x')]))).rejects.toThrow('invalid storage key');
    }
  });

  it('deletes, and a deleted or unknown file reads as missing', async () => {
    await storage.write('t/e/f.zip', Readable.from([Buffer.from('zip')]));
    await storage.delete('t/e/f.zip');
    await storage.delete('t/e/f.zip');
    await expect(storage.read('t/e/f.zip')).rejects.toBeInstanceOf(FileMissingError);
  });
});
