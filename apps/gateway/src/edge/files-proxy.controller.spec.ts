import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileUpstreams } from './files-proxy.controller';

describe('fileUpstreams', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-files-'));
  const supergraphPath = path.join(dir, 'supergraph.graphql');
  writeFileSync(
    supergraphPath,
    `enum join__Graph {
  AUTH @join__graph(name: "auth", url: "http://auth.internal:4001/graphql")
  CONTENT @join__graph(name: "content", url: "https://content.internal/api/graphql")
  BILLING @join__graph(name: "billing", url: "http://billing.internal:4009/graphql")
}`,
  );

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the registry services at the origin and base path of their GraphQL URLs in the supergraph', () => {
    const upstreams = fileUpstreams({ SUPERGRAPH_PATH: supergraphPath });

    expect(upstreams.get('auth')?.href).toBe('http://auth.internal:4001/');
    expect(upstreams.get('content')?.href).toBe('https://content.internal/api');
    // Not in the registry: a composed graph alone does not open a download route.
    expect(upstreams.has('billing')).toBe(false);
  });

  it('takes SUBGRAPHS over the URLs recorded in the supergraph, as GraphQL routing does', () => {
    const upstreams = fileUpstreams({ SUPERGRAPH_PATH: supergraphPath, SUBGRAPHS: [{ name: 'auth', url: 'http://127.0.0.1:5001/graphql' }] });

    expect(upstreams.get('auth')?.href).toBe('http://127.0.0.1:5001/');
    expect(upstreams.get('content')?.href).toBe('https://content.internal/api');
    expect(fileUpstreams({ SUBGRAPHS: [{ name: 'notifications', url: 'http://n:4003/graphql' }] }).get('notifications')?.host).toBe('n:4003');
  });
});
