import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SAMPLE_IMAGE_DATA_URI } from '@multipult/pdf';
import type { ExportConfig } from '../config';
import { DocumentImages } from './document-images';

const PNG = Buffer.from(SAMPLE_IMAGE_DATA_URI.split(',')[1], 'base64');

describe('DocumentImages', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/logo.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      if (req.url === '/page.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      if (req.url === '/huge.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(4096));
      if (req.url === '/moved.png') return void res.writeHead(302, { location: '/logo.png' }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const images = (allowPrivate: boolean) =>
    new DocumentImages({ EXPORT_IMAGE_TIMEOUT_MS: 2_000, EXPORT_IMAGE_ALLOW_PRIVATE_NETWORKS: allowPrivate, EXPORT_MAX_IMAGE_BYTES: 1024 } as ExportConfig).loaderFor('export-1');

  it('fetches PNG and JPEG images within the size limit', async () => {
    expect(await images(true)(`${base}/logo.png`)).toEqual(PNG);
  });

  it('renders anything else as alt text: other types, too large, redirects, errors', async () => {
    const load = images(true);
    for (const path of ['/page.html', '/huge.png', '/moved.png', '/missing.png']) expect(await load(`${base}${path}`)).toBeNull();
    expect(await load('ftp://example.com/logo.png')).toBeNull();
  });

  it('never reaches private addresses or plain http unless allowed (SSRF)', async () => {
    const load = images(false);
    expect(await load(`${base}/logo.png`)).toBeNull();
    expect(await load(`https://127.0.0.1:${(server.address() as AddressInfo).port}/logo.png`)).toBeNull();
    expect(await load('https://[::1]/logo.png')).toBeNull();
    expect(await load('https://localhost/logo.png')).toBeNull();
  });
});
