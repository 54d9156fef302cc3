import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { FileMissingError, FileStorage, StoredFile, assertStorageKey } from './file-storage';

export interface S3FileStorageOptions {
  bucket: string;
  /** Prepended to every key, e.g. `exports/`. */
  prefix: string;
  client: S3ClientConfig;
}

/**
 * Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2…). Writes stream as a multipart upload,
 * so a large export never sits in memory, and the object appears only when the upload completes; a
 * failed source aborts it and leaves nothing behind.
 */
export class S3FileStorage implements FileStorage {
  private readonly client: S3Client;

  constructor(private readonly options: S3FileStorageOptions) {
    this.client = new S3Client(options.client);
  }

  async write(key: string, body: Readable): Promise<StoredFile> {
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const measured = body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          sizeBytes += chunk.length;
          callback(null, chunk);
        },
      }),
    );
    const upload = new Upload({ client: this.client, params: { Bucket: this.options.bucket, Key: this.keyOf(key), Body: measured } });
    // The source failing must fail the upload, which then aborts its parts.
    body.once('error', (error) => {
      measured.destroy(error);
      void upload.abort();
    });
    try {
      await upload.done();
    } catch (error) {
      // The source's own failure (a cancelled or failed render) is the one that matters to the caller.
      throw body.errored ?? error;
    }
    if (body.errored) throw body.errored;
    return { sizeBytes, sha256: hash.digest('hex') };
  }

  async read(key: string): Promise<Readable> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(key) }));
      return object.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') throw new FileMissingError(key);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(key) }));
  }

  close(): void {
    this.client.destroy();
  }

  private keyOf(key: string): string {
    assertStorageKey(key);
    return `${this.options.prefix}${key}`;
  }
}
