import { Injectable, Logger } from '@nestjs/common';
import http, { IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { InjectConfig } from '@multipult/config';
import { isPublicAddress, publicOnlyLookup } from '@multipult/network';
import type { ExportConfig } from '../config';

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg']);
/** Fetches one export makes at most, whatever its documents link to. */
const MAX_IMAGES_PER_EXPORT = 500;

/**
 * Images a document links to (`![alt](https://…)`), fetched for its PDF: https on public
 * addresses only (the address actually connected to is checked, so DNS tricks cannot reach the
 * cluster), PNG or JPEG, at most EXPORT_MAX_IMAGE_BYTES, within EXPORT_IMAGE_TIMEOUT_MS, no
 * redirects. Anything else renders as its alt text.
 */
@Injectable()
export class DocumentImages {
  private readonly logger = new Logger(DocumentImages.name);

  constructor(@InjectConfig() private readonly config: ExportConfig) {}

  /** The loader of one export's renders (renderPdf's loadImage). */
  loaderFor(exportId: string): (url: string) => Promise<Buffer | null> {
    let fetched = 0;
    return async (url) => {
      if (++fetched > MAX_IMAGES_PER_EXPORT) return null;
      return this.fetch(url).catch((error: Error) => {
        this.logger.warn({ exportId, url, reason: error.message }, 'document image not loaded');
        return null;
      });
    };
  }

  private fetch(address: string): Promise<Buffer | null> {
    const url = new URL(address);
    const allowPrivate = this.config.EXPORT_IMAGE_ALLOW_PRIVATE_NETWORKS;
    if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return Promise.resolve(null);
    // An address literal is connected to without a lookup, so it is checked here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && isIP(host) && !isPublicAddress(host)) return Promise.resolve(null);
    const limit = this.config.EXPORT_MAX_IMAGE_BYTES;
    return new Promise((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).get(url, { lookup: allowPrivate ? undefined : publicOnlyLookup, timeout: this.config.EXPORT_IMAGE_TIMEOUT_MS }, (response: IncomingMessage) => {
        const type = String(response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (response.statusCode !== 200 || !IMAGE_TYPES.has(type) || Number(response.headers['content-length'] ?? 0) > limit) {
          response.destroy();
          return resolve(null);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            response.destroy();
            return resolve(null);
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve(Buffer.concat(chunks)));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.config.EXPORT_IMAGE_TIMEOUT_MS} ms`)));
      request.on('error', reject);
    });
  }
}
