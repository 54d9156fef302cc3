import { z } from 'zod';

/** Signs links outside production only; a production service refuses to start with it. */
export const DEVELOPMENT_FILE_LINK_SECRET = 'development-only-file-link-secret-change-me';

/** Variables of a service that serves downloads (FilesModule). */
export const filesEnv = {
  /** HMAC key of the signed download links (HS256); at least 32 characters. */
  FILE_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_FILE_LINK_SECRET),
  /** How long a download link works after it was handed out. */
  FILE_LINK_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
};

export interface FilesConfig {
  FILE_LINK_SECRET: string;
  FILE_LINK_TTL_SECONDS: number;
}

/** Refuses to start production with the development link secret (anyone could sign links with it). */
export function requireFileLinkSecretInProduction<T extends { NODE_ENV: string; FILE_LINK_SECRET: string }>(
  config: T,
  ctx: z.RefinementCtx,
): void {
  if (config.NODE_ENV === 'production' && config.FILE_LINK_SECRET === DEVELOPMENT_FILE_LINK_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['FILE_LINK_SECRET'], message: 'must be set in production' });
  }
}
