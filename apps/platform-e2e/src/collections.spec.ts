import { Platform, findTenantIsolationViolations, graphql, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

const COLLECTION_FIELDS = `id title description documentCount owner { id } documents(first: 50) { totalCount edges { cursor node { id title } } }`;

interface CollectionView {
  id: string;
  title: string;
  description: string;
  documentCount: number;
  owner: { id: string };
  documents: { totalCount: number; edges: { cursor: string; node: { id: string; title: string } }[] };
}

describe('collections through the gateway', () => {
  let platform: Platform;
  let editorToken: string;
  let editorId: string;
  let writerToken: string;
  const documents: Record<string, string> = {};

  const as = <T>(token: string, query: string, variables?: Record<string, unknown>) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });
  const order = async (token: string, id: string) =>
    (await as<{ collection: CollectionView }>(token, `query($id: ID!) { collection(id: $id) { ${COLLECTION_FIELDS} } }`, { id })).collection.documents.edges.map(
      (edge) => edge.node.title,
    );
  const inputTypes: Record<string, string> = {
    addDocumentToCollection: 'AddDocumentToCollectionInput',
    removeDocumentFromCollection: 'CollectionDocumentInput',
    moveDocumentInCollection: 'MoveDocumentInCollectionInput',
    reorderCollection: 'ReorderCollectionInput',
    updateCollection: 'UpdateCollectionInput',
  };
  const mutate = (token: string, name: string, input: Record<string, unknown>) =>
    graphql(platform.gatewayUrl, `mutation($input: ${inputTypes[name]}!) { ${name}(input: $input) { collection { id } } }`, {
      token,
      variables: { input },
    });

  beforeAll(async () => {
    platform = await usePlatform('default');
    const editor = await registerAccount(platform.gatewayUrl, 'curator');
    const tenant = await createTenantFor(platform.gatewayUrl, editor);
    editorToken = tenant.accessToken;
    editorId = editor.userId;
    // A member: content:read and content:write on their own things, no publishing.
    const writer = await registerAccount(platform.gatewayUrl, 'contributor');
    await as(editorToken, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`, {
      input: { email: writer.email, role: 'member' },
    });
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
      platform.gatewayUrl,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
      { token: writer.accessToken, variables: { input: { tenantId: tenant.tenantId } } },
    );
    writerToken = switched.switchTenant.accessToken;
    for (const title of ['One', 'Two', 'Three', 'Four']) {
      const created = await as<{ createDocument: { document: { id: string } } }>(
        editorToken,
        `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
        { input: { title, body: `${title} body`, type: 'POEM', language: 'en' } },
      );
      documents[title] = created.createDocument.document.id;
      await as(editorToken, `mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`, {
        input: { id: documents[title] },
      });
    }
    const draft = await as<{ createDocument: { document: { id: string } } }>(
      editorToken,
      `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
      { input: { title: 'Editor draft', body: 'unpublished', type: 'POEM', language: 'en' } },
    );
    documents.draft = draft.createDocument.document.id;
  });

  it('keeps documents in the order given by adds, moves, removals and reorders', async () => {
    const created = await as<{ createCollection: { collection: CollectionView } }>(
      editorToken,
      `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { collection { ${COLLECTION_FIELDS} } } }`,
      { input: { title: '  Anthology ', description: 'Poems in reading order' } },
    );
    const collection = created.createCollection.collection;
    expect(collection).toMatchObject({ title: 'Anthology', documentCount: 0, owner: { id: editorId }, documents: { totalCount: 0, edges: [] } });
    const collectionId = collection.id;

    for (const title of ['One', 'Two', 'Three']) {
      expect((await mutate(editorToken, 'addDocumentToCollection', { collectionId, documentId: documents[title] })).errors).toBeUndefined();
    }
    expect(await order(editorToken, collectionId)).toEqual(['One', 'Two', 'Three']);
    await mutate(editorToken, 'addDocumentToCollection', { collectionId, documentId: documents.Four, position: 1 });
    expect(await order(editorToken, collectionId)).toEqual(['One', 'Four', 'Two', 'Three']);
    await mutate(editorToken, 'moveDocumentInCollection', { collectionId, documentId: documents.One, position: 3 });
    expect(await order(editorToken, collectionId)).toEqual(['Four', 'Two', 'Three', 'One']);
    await mutate(editorToken, 'removeDocumentFromCollection', { collectionId, documentId: documents.Two });
    expect(await order(editorToken, collectionId)).toEqual(['Four', 'Three', 'One']);
    await mutate(editorToken, 'reorderCollection', { collectionId, documentIds: [documents.One, documents.Three, documents.Four] });
    expect(await order(editorToken, collectionId)).toEqual(['One', 'Three', 'Four']);

    // A reorder that is not exactly the current documents changes nothing.
    const wrong = await graphql(
      platform.gatewayUrl,
      `mutation($input: ReorderCollectionInput!) { reorderCollection(input: $input) { collection { id } } }`,
      { token: editorToken, variables: { input: { collectionId, documentIds: [documents.One, documents.Two] } }, headers: { 'accept-language': 'ru' } },
    );
    expect(wrong.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'documentIds', message: 'Перечислите каждый из 3 документов подборки ровно один раз' }] },
    });
    const twice = await mutate(editorToken, 'addDocumentToCollection', { collectionId, documentId: documents.One });
    expect(twice.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await order(editorToken, collectionId)).toEqual(['One', 'Three', 'Four']);

    // Pages follow the collection order.
    const firstPage = await as<{ collection: { documents: { edges: { cursor: string; node: { title: string } }[]; pageInfo: { endCursor: string } } } }>(
      editorToken,
      `query($id: ID!) { collection(id: $id) { documents(first: 2) { edges { cursor node { title } } pageInfo { endCursor } } } }`,
      { id: collectionId },
    );
    expect(firstPage.collection.documents.edges.map((edge) => edge.node.title)).toEqual(['One', 'Three']);
    const secondPage = await as<{ collection: { documents: { edges: { node: { title: string } }[] } } }>(
      editorToken,
      `query($id: ID!, $after: String) { collection(id: $id) { documents(first: 2, after: $after) { edges { node { title } } } } }`,
      { id: collectionId, after: firstPage.collection.documents.pageInfo.endCursor },
    );
    expect(secondPage.collection.documents.edges.map((edge) => edge.node.title)).toEqual(['Four']);

    // Deleting a document takes it out of every collection.
    await as(editorToken, `mutation($input: DocumentIdInput!) { deleteDocument(input: $input) { deletedDocumentId } }`, { input: { id: documents.Three } });
    expect(await order(editorToken, collectionId)).toEqual(['One', 'Four']);
    await mutate(editorToken, 'moveDocumentInCollection', { collectionId, documentId: documents.Four, position: 0 });
    expect(await order(editorToken, collectionId)).toEqual(['Four', 'One']);
  });

  it('shows readers only the documents they may read, and lets only the owner or an editor change a collection', async () => {
    const created = await as<{ createCollection: { collection: { id: string } } }>(
      editorToken,
      `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { collection { id } } }`,
      { input: { title: 'Drafts and poems' } },
    );
    const collectionId = created.createCollection.collection.id;
    await mutate(editorToken, 'addDocumentToCollection', { collectionId, documentId: documents.draft });
    await mutate(editorToken, 'addDocumentToCollection', { collectionId, documentId: documents.One });
    expect(await order(editorToken, collectionId)).toEqual(['Editor draft', 'One']);
    const asWriter = await as<{ collection: CollectionView }>(writerToken, `query($id: ID!) { collection(id: $id) { ${COLLECTION_FIELDS} } }`, { id: collectionId });
    expect(asWriter.collection.documents.edges.map((edge) => edge.node.title)).toEqual(['One']);
    expect(asWriter.collection.documentCount).toBe(1);

    const foreignEdit = await mutate(writerToken, 'updateCollection', { id: collectionId, title: 'Mine now' });
    expect(foreignEdit.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // The writer's own collection: they cannot add a draft they cannot read (it does not exist for them).
    const own = await as<{ createCollection: { collection: { id: string } } }>(
      writerToken,
      `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { collection { id } } }`,
      { input: { title: 'Reading list' } },
    );
    const hiddenDraft = await mutate(writerToken, 'addDocumentToCollection', { collectionId: own.createCollection.collection.id, documentId: documents.draft });
    expect(hiddenDraft.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await mutate(writerToken, 'addDocumentToCollection', { collectionId: own.createCollection.collection.id, documentId: documents.One })).errors).toBeUndefined();

    const list = await as<{ collections: { totalCount: number; edges: { node: { title: string; documentCount: number } }[] } }>(
      writerToken,
      `{ collections(first: 10) { totalCount edges { node { title documentCount } } } }`,
    );
    expect(list.collections.edges.map((edge) => edge.node)).toEqual([
      { title: 'Reading list', documentCount: 1 },
      { title: 'Drafts and poems', documentCount: 1 },
      { title: 'Anthology', documentCount: 2 },
    ]);
    const deleted = await graphqlData<{ deleteCollection: { deletedCollectionId: string } }>(
      platform.gatewayUrl,
      `mutation($input: CollectionIdInput!) { deleteCollection(input: $input) { deletedCollectionId } }`,
      { token: editorToken, variables: { input: { id: own.createCollection.collection.id } } },
    );
    expect(deleted.deleteCollection.deletedCollectionId).toBe(own.createCollection.collection.id);
  });

  it('keeps collections inside their tenant and refuses malformed input', async () => {
    const intruder = await registerAccount(platform.gatewayUrl, 'intruder');
    const intruderTenant = await createTenantFor(platform.gatewayUrl, intruder);
    const mine = await as<{ collections: { edges: { node: { id: string } }[] } }>(editorToken, `{ collections(first: 1) { edges { node { id } } } }`);
    const collectionId = mine.collections.edges[0].node.id;
    const asIntruder = (query: string, variables?: Record<string, unknown>) =>
      graphql(platform.gatewayUrl, query, { token: intruderTenant.accessToken, variables });
    const asEditor = (query: string) => graphql(platform.gatewayUrl, query, { token: editorToken });
    const violations = await findTenantIsolationViolations([
      { name: 'collection(id)', kind: 'byId', foreignIds: [collectionId], call: (id) => asIntruder(`query($id: ID!) { collection(id: $id) { id } }`, { id }) },
      {
        name: 'updateCollection',
        kind: 'byId',
        foreignIds: [collectionId],
        call: (id) => asIntruder(`mutation($input: UpdateCollectionInput!) { updateCollection(input: $input) { collection { id } } }`, { input: { id, title: 'x' } }),
      },
      {
        name: 'deleteCollection',
        kind: 'byId',
        foreignIds: [collectionId],
        call: (id) => asIntruder(`mutation($input: CollectionIdInput!) { deleteCollection(input: $input) { deletedCollectionId } }`, { input: { id } }),
      },
      {
        name: 'reorderCollection',
        kind: 'byId',
        foreignIds: [collectionId],
        call: (id) =>
          asIntruder(`mutation($input: ReorderCollectionInput!) { reorderCollection(input: $input) { collection { id } } }`, {
            input: { collectionId: id, documentIds: [] },
          }),
      },
      { name: 'collections', kind: 'list', foreignIds: [collectionId], call: () => asIntruder(`{ collections { edges { node { id } } } }`), ownerCall: () => asEditor(`{ collections { edges { node { id } } } }`) },
    ]);
    expect(violations).toEqual([]);
    const ownCollection = await as<{ createCollection: { collection: { id: string } } }>(
      intruderTenant.accessToken,
      `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { collection { id } } }`,
      { input: { title: 'Intruder list' } },
    );
    const foreignDocument = await mutate(intruderTenant.accessToken, 'addDocumentToCollection', {
      collectionId: ownCollection.createCollection.collection.id,
      documentId: documents.One,
    });
    expect(foreignDocument.errors?.[0].extensions?.code).toBe('NOT_FOUND');

    const malformed = await mutate(editorToken, 'moveDocumentInCollection', { collectionId: 'not-a-uuid', documentId: documents.One, position: -1 });
    expect(malformed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((malformed.errors?.[0].extensions?.fields as { field: string }[]).map((field) => field.field).sort()).toEqual(['collectionId', 'position']);
  });
});
