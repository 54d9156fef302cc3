import { FileLinks } from '@multipult/files';
import { Platform } from '@multipult/testing';

export interface Download {
  status: number;
  headers: Headers;
  body: string;
}

/** Follows a download link (relative to the gateway) as a browser would: no access token. */
export async function download(platform: Platform, url: string, init: RequestInit = {}): Promise<Download> {
  const response = await fetch(new URL(url, platform.gateway.url), { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/**
 * The same link signed as the service would have signed it but already expired. The platform
 * under test runs outside production, on the development link secret (FILE_LINK_SECRET default).
 */
export async function expiredCopyOf(url: string, secret: string): Promise<string> {
  const [, , service, kind, filename] = new URL(url, 'http://gateway').pathname.split('/');
  const token = new URL(url, 'http://gateway').searchParams.get('token') as string;
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { resource: string; sub?: string };
  const links = new FileLinks({ service, secret, ttlSeconds: 300 });
  return (await links.create(kind, claims.resource, decodeURIComponent(filename), { userId: claims.sub, ttlSeconds: -1 })).url;
}

/** The link with one bit of its signature flipped (not the last character, whose low bits are padding). */
export function tamperedCopyOf(url: string): string {
  const at = url.lastIndexOf('.') + 5;
  return `${url.slice(0, at)}${url[at] === 'A' ? 'B' : 'A'}${url.slice(at + 1)}`;
}
