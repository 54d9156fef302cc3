import net from 'node:net';
import { Readable } from 'node:stream';
import { INestApplication, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { ConfigModule, baseEnv, loadConfig } from '@multipult/config';
import { NotFoundError, configureServiceApp } from '@multipult/graphql';
import { ObservabilityModule } from '@multipult/observability';
import { FileDownloads } from './file-downloads';
import { FileLinkError, FileLinks } from './file-links';
import { DEVELOPMENT_FILE_LINK_SECRET, filesEnv, requireFileLinkSecretInProduction } from './files-env';
import { FilesModule } from './files.module';

const SECRET = 'a-test-secret-of-at-least-32-characters';

describe('FileLinks', () => {
  const links = new FileLinks({ service: 'auth', secret: SECRET, ttlSeconds: 300 });

  it('signs a link under /files/<service>/<kind>/<filename> that verifies to its resource and user', async () => {
    const before = Date.now();
    const link = await links.create('audit-log', '{"maxId":"42"}', 'audit-log.csv', { userId: 'user-1' });

    expect(link.url).toMatch(/^\/files\/auth\/audit-log\/audit-log\.csv\?token=[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(link.expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 300_000);
    expect(link.expiresAt.getTime()).toBeLessThanOrEqual(before + 301_000);
    const token = new URL(link.url, 'http://gateway').searchParams.get('token') as string;
    await expect(links.verify(token, 'audit-log', 'audit-log.csv')).resolves.toEqual({
      kind: 'audit-log',
      resource: '{"maxId":"42"}',
      filename: 'audit-log.csv',
      userId: 'user-1',
    });
  });

  it('refuses a link for another kind, another filename, another service or signed with another secret', async () => {
    const token = tokenOf(await links.create('audit-log', 'r', 'audit-log.csv'));

    await expect(links.verify(token, 'data-export', 'audit-log.csv')).rejects.toMatchObject({ refusal: 'invalid' });
    await expect(links.verify(token, 'audit-log', 'other.csv')).rejects.toMatchObject({ refusal: 'invalid' });
    const content = new FileLinks({ service: 'content', secret: SECRET, ttlSeconds: 300 });
    await expect(content.verify(token, 'audit-log', 'audit-log.csv')).rejects.toMatchObject({ refusal: 'invalid' });
    const otherSecret = new FileLinks({ service: 'auth', secret: `${SECRET}-rotated`, ttlSeconds: 300 });
    await expect(otherSecret.verify(token, 'audit-log', 'audit-log.csv')).rejects.toMatchObject({ refusal: 'invalid' });
  });

  it('refuses a tampered link as invalid, and a genuine expired one as expired', async () => {
    const token = tokenOf(await links.create('audit-log', 'r', 'audit-log.csv'));
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), resource: 'everything' })).toString('base64url');

    await expect(links.verify(`${header}.${forged}.${signature}`, 'audit-log', 'audit-log.csv')).rejects.toMatchObject({ refusal: 'invalid' });
    const expired = tokenOf(await links.create('audit-log', 'r', 'audit-log.csv', { ttlSeconds: -1 }));
    await expect(links.verify(expired, 'audit-log', 'audit-log.csv')).rejects.toEqual(new FileLinkError('expired', 'link expired'));
  });

  it('refuses an unsigned token and an HS256 token that is not a file link', async () => {
    const key = new TextEncoder().encode(SECRET);
    const accessTokenLike = await new SignJWT({ kind: 'audit-log', resource: 'r', filename: 'audit-log.csv' })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('files:auth')
      .setExpirationTime('5m')
      .sign(key);
    const unsigned = `${Buffer.from('{"alg":"none","typ":"file-link+jwt"}').toString('base64url')}.${Buffer.from('{"aud":"files:auth"}').toString('base64url')}.`;

    await expect(links.verify(accessTokenLike, 'audit-log', 'audit-log.csv')).rejects.toMatchObject({ refusal: 'invalid' });
    await expect(links.verify(unsigned, 'audit-log', 'audit-log.csv')).rejects.toMatchObject({ refusal: 'invalid' });
  });

  it('refuses kinds and filenames that are not safe path segments', async () => {
    await expect(links.create('Audit Log', 'r', 'a.csv')).rejects.toThrow(/file kind/);
    await expect(links.create('audit-log', 'r', '../a.csv')).rejects.toThrow(/filename/);
  });
});

describe('filesEnv', () => {
  const schema = z.object({ ...baseEnv, ...filesEnv }).superRefine(requireFileLinkSecretInProduction);

  it('defaults to the development secret and a 5 minute lifetime outside production', () => {
    expect(loadConfig(schema, { NODE_ENV: 'test' })).toMatchObject({ FILE_LINK_SECRET: DEVELOPMENT_FILE_LINK_SECRET, FILE_LINK_TTL_SECONDS: 300 });
  });

  it('refuses the development secret in production and secrets shorter than 32 characters', () => {
    expect(() => loadConfig(schema, { NODE_ENV: 'production' })).toThrow(/FILE_LINK_SECRET.*must be set in production/);
    expect(() => loadConfig(schema, { NODE_ENV: 'test', FILE_LINK_SECRET: 'short' })).toThrow(/FILE_LINK_SECRET.*at least 32/);
    expect(loadConfig(schema, { NODE_ENV: 'production', FILE_LINK_SECRET: SECRET }).FILE_LINK_SECRET).toBe(SECRET);
  });
});

/** Changes one bit of the signature (not in its last character, whose low bits are padding). */
function flipSignatureBit(url: string): string {
  const at = url.lastIndexOf('.') + 5;
  return `${url.slice(0, at)}${url[at] === 'A' ? 'B' : 'A'}${url.slice(at + 1)}`;
}

function tokenOf(link: { url: string }): string {
  return new URL(link.url, 'http://gateway').searchParams.get('token') as string;
}

/** A feature as services write them: registers its kinds at start and streams rows as they are made. */
@Injectable()
class NumbersDownload implements OnModuleInit {
  /** Set when a stream was torn down, to see that a client that leaves stops the producer. */
  released: Promise<void>;
  private release: () => void = () => undefined;

  constructor(private readonly downloads: FileDownloads) {
    this.released = new Promise((resolve) => (this.release = resolve));
  }

  onModuleInit(): void {
    this.downloads.register('numbers', async (link) => {
      if (link.resource === 'gone') throw new NotFoundError('Numbers');
      const count = Number(link.resource);
      const release = () => this.release();
      async function* lines() {
        try {
          for (let i = 1; i <= count; i += 1) {
            yield `${i}\n`;
            // Yields to the event loop so a large file is really produced while it is sent.
            if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
        } finally {
          release();
        }
      }
      return { contentType: 'text/plain; charset=utf-8', body: Readable.from(lines()) };
    });
  }
}

@Module({ providers: [NumbersDownload] })
class NumbersModule {}

describe('FilesModule', () => {
  let app: INestApplication;
  let baseUrl: string;
  let links: FileLinks;

  beforeAll(async () => {
    const config = loadConfig(z.object({ ...baseEnv, ...filesEnv }), { NODE_ENV: 'test', LOG_LEVEL: 'silent', FILE_LINK_SECRET: SECRET });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: 'files-spec', logLevel: 'silent' }),
        FilesModule.forRoot({ service: 'auth' }),
        NumbersModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ bodyParser: false });
    configureServiceApp(app, { bodyLimit: '1kb' });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as net.AddressInfo).port}`;
    links = app.get(FileLinks);
  });

  afterAll(() => app?.close());

  const get = (path: string, init?: RequestInit) => fetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });

  it('streams the file with its type, an attachment disposition and no caching', async () => {
    const link = await links.create('numbers', '3', 'numbers.txt');

    const response = await get(link.url);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename=numbers.txt');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    expect(await response.text()).toBe('1\n2\n3\n');
  });

  it('sends a large file in full', async () => {
    const link = await links.create('numbers', '200000', 'numbers.txt');

    const lines = (await (await get(link.url)).text()).trimEnd().split('\n');

    expect(lines).toHaveLength(200_000);
    expect(lines.at(-1)).toBe('200000');
  });

  it('stops producing the file when the client goes away', async () => {
    const link = await links.create('numbers', '100000000', 'numbers.txt');
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}${link.url}`, { signal: controller.signal });
    expect(response.status).toBe(200);
    await response.body?.getReader().read();

    controller.abort();

    let timer: NodeJS.Timeout | undefined;
    const stillProducing = new Promise((resolve) => (timer = setTimeout(resolve, 5_000, 'still producing')));
    try {
      await expect(Promise.race([app.get(NumbersDownload).released.then(() => 'released'), stillProducing])).resolves.toBe('released');
    } finally {
      clearTimeout(timer);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const link = await links.create('numbers', '3', 'numbers.txt');

    const response = await get(link.url, { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename=numbers.txt');
    expect(await response.text()).toBe('');
  });

  it.each([
    ['an expired link', async () => (await links.create('numbers', '3', 'numbers.txt', { ttlSeconds: -1 })).url, 410, 'LINK_EXPIRED'],
    ['a tampered link', async () => flipSignatureBit((await links.create('numbers', '3', 'numbers.txt')).url), 403, 'FORBIDDEN'],
    ['no token', async () => '/files/auth/numbers/numbers.txt', 403, 'FORBIDDEN'],
    ['a link for another filename', async () => (await links.create('numbers', '3', 'numbers.txt')).url.replace('numbers.txt?', 'other.txt?'), 403, 'FORBIDDEN'],
    ['a link of another kind', async () => (await links.create('letters', '3', 'numbers.txt')).url, 404, 'NOT_FOUND'],
    ['a link for another service', async () => (await links.create('numbers', '3', 'numbers.txt')).url.replace('/files/auth/', '/files/content/'), 404, 'NOT_FOUND'],
    ['a file that is gone', async () => (await links.create('numbers', 'gone', 'numbers.txt')).url, 404, 'NOT_FOUND'],
  ])('refuses %s with a typed JSON error carrying the request id', async (_case, url, status, code) => {
    const response = await get(await url(), { headers: { 'x-request-id': 'files-spec-request' } });

    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('content-disposition')).toBeNull();
    expect(await response.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code, requestId: 'files-spec-request' } }] });
  });

  it('refuses to register a kind twice', () => {
    expect(() => app.get(FileDownloads).register('numbers', async () => ({ contentType: 'text/plain', body: Readable.from([]) }))).toThrow(/twice/);
  });
});
