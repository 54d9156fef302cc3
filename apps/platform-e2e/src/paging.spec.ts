import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Platform, graphql, graphqlData, startPlatform } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const PAGE = 'totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor }';
const DOCUMENTS = `query($first: Int, $after: String) { documents(first: $first, after: $after) { ${PAGE} } }`;
const COLLECTIONS = `query($first: Int, $after: String) { collections(first: $first, after: $after) { ${PAGE} } }`;
const COLLECTION_DOCUMENTS = `query($id: ID!, $first: Int, $after: String) { collection(id: $id) { documents(first: $first, after: $after) { ${PAGE} } } }`;
const DELIVERIES = `query($endpointId: ID!, $first: Int, $after: String) { webhookDeliveries(endpointId: $endpointId, first: $first, after: $after) { ${PAGE} } }`;

/** Cursors a client could make up: garbage, a cut-off cursor, the old unversioned format, a forged fingerprint with SQL in it. */
function craftedCursors(genuine: string): string[] {
  const body = JSON.parse(Buffer.from(genuine, 'base64url').toString('utf8')) as { v: number; f: string; k: unknown[] };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    'garbage',
    genuine.slice(0, genuine.length - 5),
    encode(['2026-01-01T00:00:00.000Z', 'not-a-uuid']),
    encode({ ...body, f: 'AAAAAAAAAAAAAAAA' }),
    encode({ ...body, k: ["2026-01-01'; SELECT pg_sleep(5); --", randomUUID()] }),
    encode({ ...body, k: ['2026-01-01T00:00:00.000Z', 'not-a-uuid'] }),
    encode({ ...body, k: [body.k[0], 7] }),
    encode({ ...body, k: [{ $gt: 0 }, randomUUID()] }),
    encode({ ...body, k: [body.k[0]] }),
  ];
}

describe('keyset paging through the gateway', () => {
  let platform: Platform;
  let token: string;
  let tenantId: string;
  const documentIds: string[] = [];
  const collectionIds: string[] = [];
  const endpointIds: string[] = [];

  const query = <T>(text: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
    graphql<T>(platform.gatewayUrl, text, { token, variables, headers });
  const data = <T>(text: string, variables: Record<string, unknown> = {}) => graphqlData<T>(platform.gatewayUrl, text, { token, variables });

  /** Asserts the call was refused as BAD_USER_INPUT on `after` (and is not an INTERNAL error). */
  async function expectRefused(text: string, variables: Record<string, unknown>, field = 'after') {
    const result = await query(text, variables, { 'accept-language': 'ru' });
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [{ field, constraint: 'cursor', message: expect.stringContaining('курсор') }],
    });
  }

  /** Every page of a list, `first` at a time: the ids in the order served, and the cursors handed out. */
  async function walk(pageOf: (after: string | null) => Promise<Page>): Promise<{ ids: string[]; cursors: string[] }> {
    const ids: string[] = [];
    const cursors: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages += 1) {
      const page = await pageOf(after);
      ids.push(...page.edges.map((edge) => edge.node.id));
      cursors.push(...page.edges.map((edge) => edge.cursor));
      if (!page.pageInfo.hasNextPage) return { ids, cursors };
      after = page.pageInfo.endCursor;
    }
    throw new Error('paging did not end');
  }

  beforeAll(async () => {
    platform = await startPlatform({ notificationsEnv: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    const account = await registerAccount(platform.gatewayUrl, 'pager');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    token = tenant.accessToken;
    tenantId = tenant.tenantId;
    for (const title of ['First', 'Second', 'Third']) {
      const created = await data<{ createDocument: { document: { id: string } } }>(
        `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
        { input: { title, body: `${title} body`, type: 'ARTICLE', language: 'en' } },
      );
      documentIds.push(created.createDocument.document.id);
    }
    for (const title of ['Shelf A', 'Shelf B']) {
      const created = await data<{ createCollection: { collection: { id: string } } }>(
        `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { collection { id } } }`,
        { input: { title } },
      );
      const collectionId = created.createCollection.collection.id;
      collectionIds.push(collectionId);
      for (const documentId of documentIds) {
        await data(`mutation($input: AddDocumentToCollectionInput!) { addDocumentToCollection(input: $input) { collection { id } } }`, {
          input: { collectionId, documentId },
        });
      }
    }
    // Subscribed to an event this file never causes: the log holds only the rows written below.
    for (const path of ['a', 'b']) {
      const created = await data<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`,
        { input: { url: `http://127.0.0.1:9/${path}`, eventTypes: ['document.deleted'] } },
      );
      endpointIds.push(created.createWebhookEndpoint.endpoint.id);
    }
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('pages documents and collections one by one, and refuses crafted and foreign cursors as BAD_USER_INPUT', async () => {
    // Written in quick succession, some may share a millisecond: one page of all gives the order to expect.
    const allDocuments = (await data<{ documents: Page }>(DOCUMENTS, { first: 100 })).documents;
    expect([...allDocuments.edges.map((edge) => edge.node.id)].sort()).toEqual([...documentIds].sort());
    const documents = await walk(async (after) => (await data<{ documents: Page }>(DOCUMENTS, { first: 1, after })).documents);
    expect(documents.ids).toEqual(allDocuments.edges.map((edge) => edge.node.id));
    const allCollections = (await data<{ collections: Page }>(COLLECTIONS, { first: 100 })).collections;
    expect([...allCollections.edges.map((edge) => edge.node.id)].sort()).toEqual([...collectionIds].sort());
    const collections = await walk(async (after) => (await data<{ collections: Page }>(COLLECTIONS, { first: 1, after })).collections);
    expect(collections.ids).toEqual(allCollections.edges.map((edge) => edge.node.id));
    const shelfOf = (id: string) => async (after: string | null) =>
      (await data<{ collection: { documents: Page } }>(COLLECTION_DOCUMENTS, { id, first: 2, after })).collection.documents;
    const shelfA = await walk(shelfOf(collectionIds[0]));
    expect(shelfA.ids).toEqual(documentIds);

    const [documentCursor] = documents.cursors;
    const [collectionCursor] = collections.cursors;
    const [shelfCursor] = shelfA.cursors;
    for (const after of craftedCursors(documentCursor)) await expectRefused(DOCUMENTS, { first: 1, after });
    for (const after of craftedCursors(collectionCursor)) await expectRefused(COLLECTIONS, { first: 1, after });
    for (const after of craftedCursors(shelfCursor)) await expectRefused(COLLECTION_DOCUMENTS, { id: collectionIds[0], first: 1, after });
    // Cursors of other lists: each list takes only its own.
    await expectRefused(DOCUMENTS, { first: 1, after: collectionCursor });
    await expectRefused(DOCUMENTS, { first: 1, after: shelfCursor });
    await expectRefused(COLLECTIONS, { first: 1, after: documentCursor });
    await expectRefused(COLLECTION_DOCUMENTS, { id: collectionIds[0], first: 1, after: documentCursor });
    await expectRefused(COLLECTION_DOCUMENTS, { id: collectionIds[1], first: 1, after: shelfCursor });
  });

  it('pages webhook deliveries written in one millisecond without loss, and refuses crafted and foreign cursors', async () => {
    const [endpointA, endpointB] = endpointIds;
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    const written: { id: string; createdAt: string }[] = [];
    try {
      // Distinct microseconds of one millisecond, as concurrent transactions' now() gives them.
      // Below half a millisecond, so the millisecond column rounds every one to .123.
      for (const [index, micros] of ['100', '450', '200', '350', '250', '400'].entries()) {
        const id = randomUUID();
        written.push({ id, createdAt: `2026-05-04T03:02:01.123${micros}Z` });
        await client.query(
          `INSERT INTO notifications.webhook_deliveries (id, endpoint_id, tenant_id, event_id, event_type, body, status, attempts, created_at, completed_at)
           VALUES ($1, $2, $3, $4, 'document.deleted', '{}', 'succeeded', 1, $5, now())`,
          [id, endpointA, tenantId, randomUUID(), written[index].createdAt],
        );
      }
      await client.query(
        `INSERT INTO notifications.webhook_deliveries (id, endpoint_id, tenant_id, event_id, event_type, body, status, attempts, completed_at)
         VALUES ($1, $2, $3, $4, 'document.deleted', '{}', 'succeeded', 1, now())`,
        [randomUUID(), endpointB, tenantId, randomUUID()],
      );
    } finally {
      await client.end();
    }
    const pageOf = (endpointId: string, first: number) => async (after: string | null) =>
      (await data<{ webhookDeliveries: Page }>(DELIVERIES, { endpointId, first, after })).webhookDeliveries;

    // All in one millisecond: the id decides the order, and every row comes exactly once at any page size.
    const expected = written.map((row) => row.id).sort().reverse();
    for (const first of [1, 2, 4]) expect((await walk(pageOf(endpointA, first))).ids).toEqual(expected);

    const { cursors } = await walk(pageOf(endpointA, 2));
    const { cursors: otherEndpoint } = await walk(pageOf(endpointB, 1));
    for (const after of craftedCursors(cursors[0])) await expectRefused(DELIVERIES, { endpointId: endpointA, first: 2, after });
    await expectRefused(DELIVERIES, { endpointId: endpointB, first: 2, after: cursors[0] });
    await expectRefused(DELIVERIES, { endpointId: endpointA, first: 2, after: otherEndpoint[0] });
    const [documentCursor] = (await data<{ documents: Page }>(DOCUMENTS, { first: 1 })).documents.edges.map((edge) => edge.cursor);
    await expectRefused(DELIVERIES, { endpointId: endpointA, first: 2, after: documentCursor });
  });

  it('continues a fuzzy search in fuzzy mode page by page, and refuses a cursor of another sort', async () => {
    for (const title of ['Lighthouse keeper', 'Lighthouse dreams', 'Lighthouse at night']) {
      await data(`mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`, {
        input: { title, body: 'Waves', type: 'POEM', language: 'en' },
      });
    }
    const SEARCH = `query($input: SearchDocumentsInput!) {
      searchDocuments(input: $input) { fuzzy edges { cursor node { document { id } } } pageInfo { hasNextPage endCursor } }
    }`;
    interface Search {
      searchDocuments: { fuzzy: boolean; edges: { cursor: string; node: { document: { id: string } } }[]; pageInfo: Page['pageInfo'] };
    }
    // A typo: full text finds nothing, trigram similarity finds all three.
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Search = await data<Search>(SEARCH, { input: { query: 'Lighthuose', first: 1, after } });
      expect(page.searchDocuments.fuzzy).toBe(true);
      seen.push(...page.searchDocuments.edges.map((edge) => edge.node.document.id));
      after = page.searchDocuments.pageInfo.hasNextPage ? page.searchDocuments.pageInfo.endCursor : null;
    } while (after && seen.length < 10);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);

    const newest = await data<Search>(SEARCH, { input: { query: 'Lighthouse', sort: 'NEWEST', first: 1 } });
    const newestCursor = newest.searchDocuments.pageInfo.endCursor;
    await expectRefused(SEARCH, { input: { query: 'Lighthouse', first: 1, after: newestCursor } }, 'input.after');
    const [documentCursor] = (await data<{ documents: Page }>(DOCUMENTS, { first: 1 })).documents.edges.map((edge) => edge.cursor);
    await expectRefused(SEARCH, { input: { query: 'Lighthouse', sort: 'NEWEST', first: 1, after: documentCursor } }, 'input.after');
    for (const crafted of craftedCursors(newestCursor as string)) {
      await expectRefused(SEARCH, { input: { query: 'Lighthouse', sort: 'NEWEST', first: 1, after: crafted } }, 'input.after');
    }
  });
});
