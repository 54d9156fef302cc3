import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { VerifiedFileLink } from './file-links';

export interface FileDownload {
  contentType: string;
  /** Produced while it is sent; destroyed when the client goes away, so it must release what it holds then. */
  body: Readable;
}

/** Opens the file a verified link names; throws NotFoundError when it is gone (erased, expired). */
export type FileDownloadHandler = (link: VerifiedFileLink) => Promise<FileDownload>;

/** The kinds of file this service serves, each registered by the feature that owns it. */
@Injectable()
export class FileDownloads {
  private readonly handlers = new Map<string, FileDownloadHandler>();

  register(kind: string, handler: FileDownloadHandler): void {
    if (this.handlers.has(kind)) throw new Error(`file kind ${kind} is registered twice`);
    this.handlers.set(kind, handler);
  }

  handlerOf(kind: string): FileDownloadHandler | undefined {
    return this.handlers.get(kind);
  }
}
