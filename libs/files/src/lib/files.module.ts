import { Controller, DynamicModule, Get, Inject, Logger, Module, Param, Query, Req, Res } from '@nestjs/common';
import { create as contentDisposition } from 'content-disposition';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { APP_CONFIG } from '@multipult/config';
import { AppError, ErrorCode } from '@multipult/graphql';
import { RequestContext, counter } from '@multipult/observability';
import { FileDownloads } from './file-downloads';
import { FileLinkError, FileLinks, VerifiedFileLink } from './file-links';
import type { FilesConfig } from './files-env';

export const FILES_SERVICE = Symbol('FILES_SERVICE');

/** Codes of refused downloads, in the body's `extensions.code`. */
export const FileErrorCode = {
  NOT_FOUND: ErrorCode.NOT_FOUND,
  FORBIDDEN: ErrorCode.FORBIDDEN,
  LINK_EXPIRED: 'LINK_EXPIRED',
  INTERNAL: ErrorCode.INTERNAL,
} as const;

const downloadsCounter = () =>
  counter({ name: 'file_downloads_total', help: 'Signed-link downloads by kind and outcome', labelNames: ['kind', 'outcome'] as const });

class DownloadRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const refusalOf = (error: unknown): DownloadRefused => {
  if (error instanceof DownloadRefused) return error;
  if (error instanceof FileLinkError) {
    return error.refusal === 'expired'
      ? new DownloadRefused(410, FileErrorCode.LINK_EXPIRED, 'This download link has expired; ask for a new one')
      : new DownloadRefused(403, FileErrorCode.FORBIDDEN, 'This download link is not valid');
  }
  if (error instanceof AppError && error.code === ErrorCode.NOT_FOUND) {
    return new DownloadRefused(404, FileErrorCode.NOT_FOUND, 'The file is no longer available');
  }
  if (error instanceof AppError && error.code === ErrorCode.FORBIDDEN) {
    return new DownloadRefused(403, FileErrorCode.FORBIDDEN, 'This download link is not valid');
  }
  return new DownloadRefused(500, FileErrorCode.INTERNAL, 'The file could not be produced');
};

/**
 * Serves `GET /files/<service>/<kind>/<filename>?token=…`: the signed link is the credential (no
 * access token needed, so a browser can follow it), and the file is streamed as it is produced.
 */
@Controller('files')
class FilesController {
  private readonly logger = new Logger('FileDownloads');
  private readonly outcomes = downloadsCounter();

  constructor(
    @Inject(FILES_SERVICE) private readonly service: string,
    private readonly links: FileLinks,
    private readonly downloads: FileDownloads,
  ) {}

  @Get(':service/:kind/:filename')
  async download(
    @Param('service') service: string,
    @Param('kind') kind: string,
    @Param('filename') filename: string,
    @Query('token') token: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    let link: VerifiedFileLink | undefined;
    try {
      const handler = service === this.service ? this.downloads.handlerOf(kind) : undefined;
      if (!handler) throw new DownloadRefused(404, FileErrorCode.NOT_FOUND, 'No such kind of file');
      if (typeof token !== 'string' || !token) throw new FileLinkError('invalid', 'no token');
      link = await this.links.verify(token, kind, filename);
      const file = await handler(link);
      res.status(200);
      res.setHeader('Content-Type', file.contentType);
      res.setHeader('Content-Disposition', contentDisposition(filename, { type: 'attachment' }));
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      // The URL carries the credential: never hand it on as a Referer.
      res.setHeader('Referrer-Policy', 'no-referrer');
      if (req.method === 'HEAD') {
        file.body.destroy();
        res.end();
      } else {
        await pipeline(file.body, res);
      }
      this.outcomes.inc({ kind, outcome: 'served' });
      this.logger.log({ kind, filename, userId: link.userId }, 'file served');
    } catch (error) {
      this.fail(res, kind, filename, link, error);
    }
  }

  private fail(res: Response, kind: string, filename: string, link: VerifiedFileLink | undefined, error: unknown): void {
    if (res.headersSent) {
      // Mid-stream: the client went away, or producing the file failed; the cut connection tells the client.
      const aborted = (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
      this.outcomes.inc({ kind, outcome: aborted ? 'aborted' : 'failed' });
      if (aborted) this.logger.log({ kind, filename, userId: link?.userId }, 'file download aborted by the client');
      else this.logger.error({ err: error, kind, filename, userId: link?.userId }, 'file download failed while streaming');
      res.destroy();
      return;
    }
    const refusal = refusalOf(error);
    this.outcomes.inc({ kind: refusal.status === 404 && !link ? 'unknown' : kind, outcome: String(refusal.status) });
    if (refusal.status >= 500) this.logger.error({ err: error, kind, filename, userId: link?.userId }, 'file download failed');
    else this.logger.warn({ kind, filename, status: refusal.status, reason: (error as Error).message }, 'file download refused');
    res.setHeader('Cache-Control', 'no-store');
    res.status(refusal.status).json({
      errors: [{ message: refusal.message, extensions: { code: refusal.code, requestId: RequestContext.current()?.requestId } }],
    });
  }
}

export interface FilesModuleOptions {
  /** The registry name of this service: links read `/files/<service>/…` and only this service verifies them. */
  service: string;
}

/**
 * Signed download links (FileLinks) and the route that serves them; features register the kinds
 * they serve with FileDownloads. Reads FILE_LINK_SECRET and FILE_LINK_TTL_SECONDS (filesEnv).
 */
@Module({})
export class FilesModule {
  static forRoot(options: FilesModuleOptions): DynamicModule {
    return {
      module: FilesModule,
      global: true,
      controllers: [FilesController],
      providers: [
        { provide: FILES_SERVICE, useValue: options.service },
        {
          provide: FileLinks,
          inject: [APP_CONFIG],
          useFactory: (config: Partial<FilesConfig>) => {
            if (!config.FILE_LINK_SECRET || !config.FILE_LINK_TTL_SECONDS) {
              throw new Error('FilesModule needs FILE_LINK_SECRET and FILE_LINK_TTL_SECONDS: add filesEnv to the config schema');
            }
            return new FileLinks({ service: options.service, secret: config.FILE_LINK_SECRET, ttlSeconds: config.FILE_LINK_TTL_SECONDS });
          },
        },
        FileDownloads,
      ],
      exports: [FileLinks, FileDownloads],
    };
  }
}
