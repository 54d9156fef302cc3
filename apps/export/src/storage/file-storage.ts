import type { Readable } from 'node:stream';

export interface StoredFile {
  sizeBytes: number;
  /** Hex SHA-256 of the bytes as stored. */
  sha256: string;
}

/**
 * Where produced files live. Keys are relative paths made by the service (never from user input).
 * The local directory is the default; an S3-compatible store is the same interface.
 */
export interface FileStorage {
  /** Streams `body` to `key`; the file appears only once complete (a failed write leaves nothing). */
  write(key: string, body: Readable): Promise<StoredFile>;
  /** The file's bytes as a stream; rejects with FileMissingError when there is none. */
  read(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
  /** Releases connections at shutdown. */
  close?(): void;
}

export const FILE_STORAGE = Symbol('FILE_STORAGE');

export class FileMissingError extends Error {
  constructor(readonly key: string) {
    super(`no stored file ${key}`);
    this.name = 'FileMissingError';
  }
}

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,400}$/;

/** Keys are relative paths of letters, digits, `._-/`, never climbing up (`..`). */
export function assertStorageKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').includes('..')) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
}
