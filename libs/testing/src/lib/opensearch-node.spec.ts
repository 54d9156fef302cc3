import { OpenSearchNode, startOpenSearchNode } from './jvm-services';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- OpenSearch's answers, read field by field below
type OpenSearchAnswer = { status: number; json: any };

async function call(node: OpenSearchNode, method: string, path: string, body?: unknown): Promise<OpenSearchAnswer> {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe('tools/opensearch: a real OpenSearch node from Maven jars', () => {
  let node: OpenSearchNode;

  beforeAll(async () => {
    node = await startOpenSearchNode({ heapMb: 256 });
  }, 180_000);

  afterAll(() => node?.stop());

  it('reports the pom version and a healthy single-node cluster', async () => {
    const info = await call(node, 'GET', '/');
    expect(info.json.version.number).toBe(node.version);
    const health = await call(node, 'GET', '/_cluster/health');
    expect(health.json).toMatchObject({ number_of_nodes: 1, status: expect.stringMatching(/green|yellow/) });
  });

  it('serves the language analyzers the distribution ships as modules, and searches stemmed text', async () => {
    const created = await call(node, 'PUT', '/stories', {
      mappings: { properties: { text: { type: 'text', analyzer: 'russian' } } },
    });
    expect(created.status).toBe(200);
    await call(node, 'PUT', '/stories/_doc/1?refresh=true', { text: 'Старые дома стояли у реки' });
    await call(node, 'PUT', '/stories/_doc/2?refresh=true', { text: 'Новый мост через залив' });

    const found = await call(node, 'POST', '/stories/_search', { query: { match: { text: { query: 'старый дом', operator: 'and' } } } });

    expect(found.json.hits.hits.map((hit: { _id: string }) => hit._id)).toEqual(['1']);
  });

  it('is gone once stopped', async () => {
    const { url } = node;
    await node.stop();
    await expect(fetch(url)).rejects.toThrow();
  });
});
