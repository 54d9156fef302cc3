import { JWTPayload, SignJWT, errors, jwtVerify } from 'jose';

/** Kinds and filenames travel as URL path segments; service names are those of the registry. */
const KIND_PATTERN = /^[a-z][a-z0-9-]{0,40}$/;
const FILENAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/;

export const FILES_PATH_PREFIX = '/files';

export interface FileLink {
  /** Relative to the gateway's origin: `/files/<service>/<kind>/<filename>?token=…`. */
  url: string;
  expiresAt: Date;
}

export interface FileLinkOptions {
  /** Overrides FILE_LINK_TTL_SECONDS for this link. */
  ttlSeconds?: number;
  /** The user the link was handed to; the download handler can check it still may have the file. */
  userId?: string;
}

/** What a verified link says: the resource to serve and to whom it was handed. */
export interface VerifiedFileLink {
  kind: string;
  resource: string;
  filename: string;
  userId?: string;
}

export type FileLinkRefusal = 'expired' | 'invalid';

/** A link that cannot be served: `expired` (410) or `invalid` (403: tampered, another service's, another kind's). */
export class FileLinkError extends Error {
  constructor(
    readonly refusal: FileLinkRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'FileLinkError';
  }
}

export interface FileLinksOptions {
  service: string;
  secret: string;
  ttlSeconds: number;
}

/**
 * Short-lived download links: an HS256 JWT in the query string names the service, the kind of
 * file, an opaque resource (an id, a pinned filter) and the filename. Only the service that signs
 * a link can verify it; the link itself is the credential, so it is never longer-lived than needed.
 */
export class FileLinks {
  private readonly key: Uint8Array;
  private readonly audience: string;

  constructor(private readonly options: FileLinksOptions) {
    this.key = new TextEncoder().encode(options.secret);
    this.audience = `files:${options.service}`;
  }

  async create(kind: string, resource: string, filename: string, options: FileLinkOptions = {}): Promise<FileLink> {
    if (!KIND_PATTERN.test(kind)) throw new Error(`file kind ${JSON.stringify(kind)} must match ${KIND_PATTERN}`);
    if (!FILENAME_PATTERN.test(filename)) throw new Error(`filename ${JSON.stringify(filename)} must match ${FILENAME_PATTERN}`);
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAtSeconds = issuedAt + (options.ttlSeconds ?? this.options.ttlSeconds);
    const jwt = new SignJWT({ kind, resource, filename })
      .setProtectedHeader({ alg: 'HS256', typ: 'file-link+jwt' })
      .setAudience(this.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAtSeconds);
    if (options.userId) jwt.setSubject(options.userId);
    const token = await jwt.sign(this.key);
    return {
      url: `${FILES_PATH_PREFIX}/${this.options.service}/${kind}/${filename}?token=${token}`,
      expiresAt: new Date(expiresAtSeconds * 1000),
    };
  }

  /** The link's claims when it was signed by this service for this kind and filename and has not expired. */
  async verify(token: string, kind: string, filename: string): Promise<VerifiedFileLink> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], audience: this.audience, typ: 'file-link+jwt' }));
    } catch (error) {
      // jose checks the signature before the claims: an expired link is a genuine one.
      if (error instanceof errors.JWTExpired) throw new FileLinkError('expired', 'link expired');
      throw new FileLinkError('invalid', error instanceof Error ? error.message : 'invalid link');
    }
    if (payload.kind !== kind) throw new FileLinkError('invalid', 'link is for another kind of file');
    if (payload.filename !== filename) throw new FileLinkError('invalid', 'link is for another filename');
    if (typeof payload.resource !== 'string') throw new FileLinkError('invalid', 'link names no resource');
    return { kind, resource: payload.resource, filename, userId: payload.sub };
  }
}
