import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { Platform, eventually, findTenantIsolationViolations, graphql, graphqlData, workspaceRoot } from '@multipult/testing';
import { Account, createTenantFor, registerAccount } from './support/accounts';
import { readMetric } from './support/metrics';
import { loggedStatements } from './support/logs';
import { usePlatform } from './support/platforms';

const run = promisify(execFile);

const CREATE_DOCUMENT = `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id version status } } }`;
const SEARCH = `query($input: SearchDocumentsInput!) {
  searchDocuments(input: $input) {
    totalCount fuzzy
    pageInfo { hasNextPage endCursor }
    edges { cursor node { rank highlight { title body } document { id title language type } } }
    facets { languages { value count } types { value count } tags { tag { name } count } authors { author { name } count } }
  }
}`;

interface SearchResult {
  searchDocuments: {
    totalCount: number;
    fuzzy: boolean;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: { rank: number; highlight: { title: string; body: string }; document: { id: string; title: string; language: string } } }[];
    facets: {
      languages: { value: string; count: number }[];
      types: { value: string; count: number }[];
      tags: { tag: { name: string }; count: number }[];
      authors: { author: { name: string }; count: number }[];
    };
  };
}

describe('content through the gateway', () => {
  let platform: Platform;
  let owner: Account & { token: string; tenantId: string };
  let reader: { token: string; userId: string };
  const ids: Record<string, string> = {};

  const asOwner = <T>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    graphqlData<T>(platform.gatewayUrl, query, { token: owner.token, variables, headers });

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'editor');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    owner = { ...account, token: tenant.accessToken, tenantId: tenant.tenantId };
    const member = await registerAccount(platform.gatewayUrl, 'reader');
    await asOwner(`mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`, {
      input: { email: member.email, role: 'member' },
    });
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
      platform.gatewayUrl,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
      { token: member.accessToken, variables: { input: { tenantId: owner.tenantId } } },
    );
    reader = { token: switched.switchTenant.accessToken, userId: member.userId };

    for (const [key, name, color] of [
      ['poetry', 'poetry', '#aa3300'],
      ['nature', 'nature', '#00aa33'],
    ]) {
      const tag = await asOwner<{ createTag: { tag: { id: string } } }>(
        `mutation($input: CreateTagInput!) { createTag(input: $input) { tag { id } } }`,
        { input: { name, color } },
      );
      ids[key] = tag.createTag.tag.id;
    }
    const author = await asOwner<{ createAuthor: { author: { id: string } } }>(
      `mutation($input: CreateAuthorInput!) { createAuthor(input: $input) { author { id } } }`,
      { input: { name: 'Gabdulla Tukay', bio: 'Tatar poet' } },
    );
    ids.tukay = author.createAuthor.author.id;

    const documents: [string, Record<string, unknown>][] = [
      ['foxes', { title: 'Running foxes', body: 'The foxes were running through the <b>forest</b> at night.', type: 'ARTICLE', language: 'en', tagIds: [ids.nature] }],
      ['ode', { title: 'Ode to the forest', body: 'A poem about forests, rivers and running water.', type: 'POEM', language: 'en', tagIds: [ids.poetry, ids.nature], authorIds: [ids.tukay] }],
      ['ru', { title: 'Лесная сказка', body: 'Лисы бегали по лесу всю ночь, и лес молчал.', type: 'PROSE', language: 'ru', tagIds: [ids.nature] }],
      ['tt', { title: 'Туган тел', body: 'И туган тел, и матур тел, әткәм-әнкәмнең теле!', type: 'POEM', language: 'tt', tagIds: [ids.poetry], authorIds: [ids.tukay] }],
      ['draft', { title: 'Secret forest draft', body: 'Not published yet: forest plans.', type: 'CONCEPT', language: 'en' }],
    ];
    for (const [key, input] of documents) {
      const created = await asOwner<{ createDocument: { document: { id: string } } }>(CREATE_DOCUMENT, { input });
      ids[key] = created.createDocument.document.id;
      if (key !== 'draft') {
        await asOwner(`mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { status } } }`, {
          input: { id: ids[key] },
        });
      }
    }
  });

  it('versions every update and refuses a stale expectedVersion', async () => {
    const updated = await asOwner<{ updateDocument: { document: { version: number; title: string; versions: { version: number; title: string }[] } } }>(
      `mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { version title versions { version title } } } }`,
      { input: { id: ids.draft, title: 'Secret forest draft, revised', expectedVersion: 1 } },
    );
    expect(updated.updateDocument.document.version).toBe(2);
    expect(updated.updateDocument.document.versions.map((v) => v.version)).toEqual([2, 1]);

    const stale = await graphql(
      platform.gatewayUrl,
      `mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { version } } }`,
      { token: owner.token, variables: { input: { id: ids.draft, body: 'x', expectedVersion: 1 } } },
    );
    expect(stale.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
  });

  it('diffs versions, blames lines on their authors and restores an old version as a new one', async () => {
    const created = await asOwner<{ createDocument: { document: { id: string } } }>(CREATE_DOCUMENT, {
      input: { title: 'Draft one', body: 'first line\nsecond line\nthird line', type: 'PROSE', language: 'en' },
    });
    const id = created.createDocument.document.id;
    const update = (input: Record<string, unknown>) =>
      asOwner(`mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { version } } }`, {
        input: { id, ...input },
      });
    await update({ title: 'Draft two', body: 'first line\nsecond line, edited\nthird line' });
    await update({ body: 'zeroth line\nfirst line\nsecond line, edited\nthird line' });

    const diff = await asOwner<{ documentDiff: { fieldChanges: unknown[]; bodyLines: { kind: string; text: string }[] } }>(
      `query($input: DocumentDiffInput!) { documentDiff(input: $input) { fieldChanges { field from to } bodyLines { kind text oldLine newLine } } }`,
      { input: { documentId: id, fromVersion: 1, toVersion: 3 } },
    );
    expect(diff.documentDiff.fieldChanges).toEqual([{ field: 'title', from: 'Draft one', to: 'Draft two' }]);
    expect(diff.documentDiff.bodyLines.filter((line) => line.kind !== 'UNCHANGED')).toEqual([
      { kind: 'ADDED', text: 'zeroth line', oldLine: null, newLine: 1 },
      { kind: 'REMOVED', text: 'second line', oldLine: 2, newLine: null },
      { kind: 'ADDED', text: 'second line, edited', oldLine: null, newLine: 3 },
    ]);

    const blame = await asOwner<{ documentBlame: { lineNumber: number; version: number; changedBy: { displayName: string } }[] }>(
      `query($id: ID!) { documentBlame(documentId: $id) { lineNumber text version changedBy { displayName } changedAt } }`,
      { id },
    );
    expect(blame.documentBlame.map((line) => line.version)).toEqual([3, 1, 2, 1]);
    expect(blame.documentBlame[0].changedBy.displayName).toBe('editor');

    const restored = await asOwner<{ restoreDocumentVersion: { document: { version: number; title: string; body: string } } }>(
      `mutation($input: RestoreDocumentVersionInput!) { restoreDocumentVersion(input: $input) { document { version title body } } }`,
      { input: { documentId: id, version: 1, expectedVersion: 3 } },
    );
    expect(restored.restoreDocumentVersion.document).toEqual({ version: 4, title: 'Draft one', body: 'first line\nsecond line\nthird line' });

    const readerDiff = await graphql(platform.gatewayUrl, `query($input: DocumentDiffInput!) { documentDiff(input: $input) { toVersion } }`, {
      token: reader.token,
      variables: { input: { documentId: id, fromVersion: 1, toVersion: 2 } },
    });
    expect(readerDiff.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    await asOwner(`mutation($input: DocumentIdInput!) { deleteDocument(input: $input) { deletedDocumentId } }`, { input: { id } });
  });

  it('shows drafts to their owner and editors only, and lets only editors publish', async () => {
    const hidden = await graphql(platform.gatewayUrl, `query($id: ID!) { document(id: $id) { id } }`, {
      token: reader.token,
      variables: { id: ids.draft },
    });
    expect(hidden.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const visible = await graphqlData<{ document: { id: string; owner: { displayName: string }; authors: { name: string }[]; tags: { name: string }[] } }>(
      platform.gatewayUrl,
      `query($id: ID!) { document(id: $id) { id owner { displayName } authors { name } tags { name } } }`,
      { token: reader.token, variables: { id: ids.ode } },
    );
    expect(visible.document).toEqual({
      id: ids.ode,
      owner: { displayName: 'editor' },
      authors: [{ name: 'Gabdulla Tukay' }],
      tags: [{ name: 'nature' }, { name: 'poetry' }],
    });
    const publish = await graphql(platform.gatewayUrl, `mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`, {
      token: reader.token,
      variables: { input: { id: ids.draft } },
    });
    expect(publish.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });

  it('finds documents by word stems in English and Russian and by exact words in Tatar, with highlights', async () => {
    const english = await asOwner<SearchResult>(SEARCH, { input: { query: 'run' } });
    expect(english.searchDocuments.edges.map((edge) => edge.node.document.id).sort()).toEqual([ids.foxes, ids.ode].sort());
    // Title matches (weight A) outrank body matches (weight C).
    expect(english.searchDocuments.edges[0].node.document.id).toBe(ids.foxes);
    const foxes = english.searchDocuments.edges[0].node.highlight;
    expect(foxes.title).toBe('<mark>Running</mark> foxes');
    expect(foxes.body).toContain('&lt;b&gt;forest&lt;/b&gt;');
    expect(foxes.body).not.toContain('<b>');

    const russian = await asOwner<SearchResult>(SEARCH, { input: { query: 'лес' } });
    expect(russian.searchDocuments.edges.map((edge) => edge.node.document.id)).toEqual([ids.ru]);
    expect(russian.searchDocuments.edges[0].node.highlight.body).toContain('<mark>лесу</mark>');

    const tatar = await asOwner<SearchResult>(SEARCH, { input: { query: 'туган' } });
    expect(tatar.searchDocuments.edges.map((edge) => edge.node.document.id)).toEqual([ids.tt]);
  });

  it('filters, counts facets over all matches and pages with cursors', async () => {
    const all = await asOwner<SearchResult>(SEARCH, { input: { query: 'forest OR лес OR тел', first: 2 } });
    expect(all.searchDocuments.totalCount).toBe(5);
    expect(all.searchDocuments.edges).toHaveLength(2);
    expect(all.searchDocuments.facets.languages).toEqual([
      { value: 'en', count: 3 },
      { value: 'ru', count: 1 },
      { value: 'tt', count: 1 },
    ]);
    expect(all.searchDocuments.facets.tags).toEqual([
      { tag: { name: 'nature' }, count: 3 },
      { tag: { name: 'poetry' }, count: 2 },
    ]);
    expect(all.searchDocuments.facets.authors).toEqual([{ author: { name: 'Gabdulla Tukay' }, count: 2 }]);
    const topValues = await asOwner<SearchResult>(SEARCH, { input: { query: 'forest OR лес OR тел', first: 2, maxValuesPerFacet: 1 } });
    expect(topValues.searchDocuments.facets.languages).toEqual([{ value: 'en', count: 3 }]);
    expect(topValues.searchDocuments.facets.tags).toEqual([{ tag: { name: 'nature' }, count: 3 }]);
    expect(topValues.searchDocuments.totalCount).toBe(5);
    const tooMany = await graphql(platform.gatewayUrl, SEARCH, { token: owner.token, variables: { input: { query: 'forest', maxValuesPerFacet: 1001 } } });
    expect(tooMany.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'maxValuesPerFacet' }] } });

    const seen = all.searchDocuments.edges.map((edge) => edge.node.document.id);
    let after = all.searchDocuments.pageInfo.endCursor;
    while (after) {
      const page = await asOwner<SearchResult>(SEARCH, { input: { query: 'forest OR лес OR тел', first: 2, after } });
      seen.push(...page.searchDocuments.edges.map((edge) => edge.node.document.id));
      after = page.searchDocuments.pageInfo.hasNextPage ? page.searchDocuments.pageInfo.endCursor : null;
    }
    expect(new Set(seen).size).toBe(5);

    const filtered = await asOwner<SearchResult>(SEARCH, {
      input: { query: 'forest OR лес OR тел', filter: { languages: ['en'], types: ['POEM'] } },
    });
    expect(filtered.searchDocuments.edges.map((edge) => edge.node.document.id)).toEqual([ids.ode]);
    const allTags = await asOwner<SearchResult>(SEARCH, {
      input: { query: 'forest OR лес OR тел', filter: { tagIds: [ids.poetry, ids.nature], tagMode: 'ALL' } },
    });
    expect(allTags.searchDocuments.edges.map((edge) => edge.node.document.id)).toEqual([ids.ode]);

    const forReader = await graphqlData<SearchResult>(platform.gatewayUrl, SEARCH, {
      token: reader.token,
      variables: { input: { query: 'forest' } },
    });
    expect(forReader.searchDocuments.edges.map((edge) => edge.node.document.id)).not.toContain(ids.draft);
  });

  it('translates documents and finds them through their translations, with the matching translation highlighted', async () => {
    const SAVE = `mutation($input: SaveTranslationInput!) { saveTranslation(input: $input) { translation { id language title translator { name } } } }`;
    const saved = await asOwner<{ saveTranslation: { translation: { id: string; language: string; title: string; translator: { name: string } } } }>(
      SAVE,
      { input: { documentId: ids.foxes, language: 'ru', title: 'Бегущие лисицы', body: 'Лисицы мчались сквозь чащу ночью.', translatorId: ids.tukay } },
    );
    expect(saved.saveTranslation.translation).toMatchObject({ language: 'ru', title: 'Бегущие лисицы', translator: { name: 'Gabdulla Tukay' } });
    const translationId = saved.saveTranslation.translation.id;

    const TRANSLATED_SEARCH = `query($input: SearchDocumentsInput!) {
      searchDocuments(input: $input) {
        totalCount
        edges { node { language highlight { title body } translation { id language title } document { id title } } }
        facets { languages { value count } }
      }
    }`;
    interface TranslatedSearch {
      searchDocuments: {
        totalCount: number;
        edges: { node: { language: string; highlight: { title: string; body: string }; translation: { id: string; title: string } | null; document: { id: string; title: string } } }[];
        facets: { languages: { value: string; count: number }[] };
      };
    }
    // Russian stemming applies to the Russian translation of an English document.
    const found = await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'лисица' } });
    expect(found.searchDocuments.totalCount).toBe(1);
    expect(found.searchDocuments.edges[0].node).toEqual({
      language: 'ru',
      highlight: { title: 'Бегущие <mark>лисицы</mark>', body: expect.stringContaining('<mark>Лисицы</mark>') },
      translation: { id: translationId, language: 'ru', title: 'Бегущие лисицы' },
      document: { id: ids.foxes, title: 'Running foxes' },
    });
    expect(found.searchDocuments.facets.languages).toEqual([{ value: 'ru', count: 1 }]);
    // The hit's document and translation come from the document cache the second time (newest
    // first, so the one full-text page is all: relevance would try typo-tolerant matching too).
    const documentCacheHits = () => readMetric(platform.content.metricsUrl, 'content_document_cache_total', { outcome: 'hit' });
    await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'лисица', sort: 'NEWEST' } });
    const hitsBefore = await documentCacheHits();
    const again = await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'лисица', sort: 'NEWEST' } });
    expect(again.searchDocuments.edges[0].node.translation).toEqual({ id: translationId, language: 'ru', title: 'Бегущие лисицы' });
    expect(await documentCacheHits()).toBe(hitsBefore + 2);
    // The language filter applies to the text that matched: only the Russian translation says "лисица".
    expect((await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'лисица', filter: { languages: ['en'] } } })).searchDocuments.totalCount).toBe(0);
    // A document matching in its original and a translation is one hit, counted once per language.
    const both = await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'foxes OR лисица' } });
    expect(both.searchDocuments.edges.map((edge) => edge.node.document.id)).toEqual([ids.foxes]);
    expect(both.searchDocuments.facets.languages).toEqual([
      { value: 'en', count: 1 },
      { value: 'ru', count: 1 },
    ]);
    const suggestions = await asOwner<{ suggestDocuments: { id: string; title: string }[] }>(
      `query($input: SuggestDocumentsInput!) { suggestDocuments(input: $input) { id title } }`,
      { input: { prefix: 'бегущие лис' } },
    );
    expect(suggestions.suggestDocuments).toEqual([{ id: ids.foxes, title: 'Бегущие лисицы' }]);

    // Saving again replaces the translation in place (and the search index with it, in the same transaction).
    await asOwner(SAVE, { input: { documentId: ids.foxes, language: 'ru', title: 'Лисицы в ночи', body: 'Они бежали.' } });
    const read = await graphqlData<{ document: { translations: { id: string; language: string; title: string; translator: { name: string } | null }[]; translation: { title: string } | null } }>(
      platform.gatewayUrl,
      `query($id: ID!) { document(id: $id) { translations { id language title translator { name } } translation(language: "ru") { title } } }`,
      { token: reader.token, variables: { id: ids.foxes } },
    );
    expect(read.document).toEqual({
      translations: [{ id: translationId, language: 'ru', title: 'Лисицы в ночи', translator: { name: 'Gabdulla Tukay' } }],
      translation: { title: 'Лисицы в ночи' },
    });
    expect((await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'чаща' } })).searchDocuments.totalCount).toBe(0);
    // A search hit never shows the cached translation from before the save.
    const afterSave = await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'лисица' } });
    expect(afterSave.searchDocuments.edges[0].node.translation).toEqual({ id: translationId, language: 'ru', title: 'Лисицы в ночи' });

    const sameLanguage = await graphql(platform.gatewayUrl, SAVE, {
      token: owner.token,
      variables: { input: { documentId: ids.foxes, language: 'en', title: 'x', body: 'x' } },
      headers: { 'accept-language': 'ru' },
    });
    expect(sameLanguage.errors?.[0]).toMatchObject({
      message: expect.stringContaining('Некорректные'),
      extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'language', message: 'Документ написан на языке en; перевод должен быть на другом языке' }] },
    });
    // Nor can the original move into the language of one of its translations.
    const intoTranslated = await graphql(
      platform.gatewayUrl,
      `mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { language } } }`,
      { token: owner.token, variables: { input: { id: ids.foxes, language: 'ru' } } },
    );
    expect(intoTranslated.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'language', message: 'The document has a translation into ru; delete it before writing the original in ru' }] },
    });
    const unchanged = await graphqlData<{ document: { language: string } }>(platform.gatewayUrl, `query($id: ID!) { document(id: $id) { language } }`, {
      token: reader.token,
      variables: { id: ids.foxes },
    });
    expect(unchanged.document.language).toBe('en');
    const byReader = await graphql(platform.gatewayUrl, SAVE, {
      token: reader.token,
      variables: { input: { documentId: ids.foxes, language: 'tt', title: 'x', body: 'x' } },
    });
    expect(byReader.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const unknownTranslator = await graphql(platform.gatewayUrl, SAVE, {
      token: owner.token,
      variables: { input: { documentId: ids.foxes, language: 'tt', title: 'x', body: 'x', translatorId: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(unknownTranslator.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(read.document.translations).toHaveLength(1);

    await asOwner(`mutation($input: DeleteTranslationInput!) { deleteTranslation(input: $input) { deletedTranslationId } }`, {
      input: { documentId: ids.foxes, language: 'ru' },
    });
    expect((await asOwner<TranslatedSearch>(TRANSLATED_SEARCH, { input: { query: 'лисица' } })).searchDocuments.totalCount).toBe(0);

    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const events = await client.query<{ event_type: string; created: boolean | null }>(
        `SELECT event_type, (envelope->'payload'->>'created')::boolean AS created FROM content.outbox
         WHERE envelope->'payload'->>'translationId' = $1 ORDER BY sequence_number`,
        [translationId],
      );
      expect(events.rows).toEqual([
        { event_type: 'document.translation_saved', created: true },
        { event_type: 'document.translation_saved', created: false },
        { event_type: 'document.translation_deleted', created: null },
      ]);
    } finally {
      await client.end();
    }
  });

  it('tolerates typos when full text finds too little, and suggests titles as you type', async () => {
    const typo = await asOwner<SearchResult>(SEARCH, { input: { query: 'runing foxs' } });
    expect(typo.searchDocuments.fuzzy).toBe(true);
    expect(typo.searchDocuments.edges[0].node.document.id).toBe(ids.foxes);
    // The title marks the words the query matched despite its typos.
    expect(typo.searchDocuments.edges[0].node.highlight.title).toBe('<mark>Running</mark> <mark>foxes</mark>');
    expect(typo.searchDocuments.edges[0].node.highlight.body).toContain('The <mark>foxes</mark> were running through the &lt;b&gt;forest');

    const suggestions = await asOwner<{ suggestDocuments: { id: string; title: string }[] }>(
      `query($input: SuggestDocumentsInput!) { suggestDocuments(input: $input) { id title } }`,
      { input: { prefix: 'Ode to the fo' } },
    );
    expect(suggestions.suggestDocuments).toEqual([{ id: ids.ode, title: 'Ode to the forest' }]);
  });

  it('loads the authors and tags of a page of documents with a constant number of statements', async () => {
    const requestId = `content-list-${Date.now()}`;
    const listAs = (id: string) =>
      asOwner<{ documents: { edges: { node: { authors: { name: string }[]; tags: { name: string }[] } }[] } }>(
        `{ documents(first: 50) { edges { node { title authors { name } tags { name } owner { id } } } } }`,
        undefined,
        { 'x-request-id': id },
      );
    const list = await listAs(requestId);
    expect(list.documents.edges).toHaveLength(5);
    const statements = await loggedStatements(platform.content, requestId, listAs);
    // count + page + authors + tags, however many documents.
    expect(statements).toHaveLength(4);
  });

  it('counts likes, bookmarks and deduplicated views, and ranks trending documents by them', async () => {
    const asReader = <T>(query: string, variables?: Record<string, unknown>) =>
      graphqlData<T>(platform.gatewayUrl, query, { token: reader.token, variables });
    const engage = (mutation: string, id: string) =>
      asReader<Record<string, { changed: boolean; document: { likeCount: number; viewCount: number } }>>(
        `mutation($input: DocumentIdInput!) { ${mutation}(input: $input) { changed document { likeCount viewCount } } }`,
        { input: { id } },
      ).then((result) => result[mutation]);

    expect(await engage('likeDocument', ids.ode)).toEqual({ changed: true, document: { likeCount: 1, viewCount: 0 } });
    expect((await engage('likeDocument', ids.ode)).changed).toBe(false);
    expect((await engage('recordDocumentView', ids.ode)).document.viewCount).toBe(1);
    expect((await engage('recordDocumentView', ids.ode)).changed).toBe(false);
    await engage('recordDocumentView', ids.foxes);
    expect((await engage('bookmarkDocument', ids.ru)).changed).toBe(true);

    const trending = await asReader<{ trendingDocuments: { score: number; document: { id: string } }[] }>(
      `{ trendingDocuments(windowDays: 7) { score document { id } } }`,
    );
    expect(trending.trendingDocuments.map((entry) => [entry.document.id, entry.score])).toEqual([
      [ids.ode, 6],
      [ids.foxes, 1],
    ]);

    const mine = await asReader<{ me: { bookmarks: { edges: { node: { id: string; bookmarkedByMe: boolean; likedByMe: boolean } }[] } } }>(
      `{ me { bookmarks { edges { node { id bookmarkedByMe likedByMe } } } } }`,
    );
    expect(mine.me.bookmarks.edges.map((edge) => edge.node)).toEqual([{ id: ids.ru, bookmarkedByMe: true, likedByMe: false }]);
    const ode = await asReader<{ document: { likedByMe: boolean } }>(`query($id: ID!) { document(id: $id) { likedByMe } }`, { id: ids.ode });
    expect(ode.document.likedByMe).toBe(true);

    expect((await engage('unlikeDocument', ids.ode)).document.likeCount).toBe(0);
    // Undoing what is not there changes nothing: the count stays at 0.
    expect(await engage('unlikeDocument', ids.ode)).toEqual({ changed: false, document: { likeCount: 0, viewCount: 1 } });
    expect((await engage('unbookmarkDocument', ids.ru)).changed).toBe(true);
    expect((await engage('unbookmarkDocument', ids.ru)).changed).toBe(false);
  });

  it('threads comments three levels deep with sanitized Markdown, edits, soft deletes and reply events', async () => {
    const add = (token: string, input: Record<string, unknown>) =>
      graphql<{ addComment: { comment: { id: string; depth: number; html: string } } }>(
        platform.gatewayUrl,
        `mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id depth html } } }`,
        { token, variables: { input: { documentId: ids.ode, ...input } } },
      );
    const top = await add(reader.token, { body: 'Lovely **poem** <script>alert(1)</script> [x](javascript:alert(1))' });
    const topComment = top.data?.addComment.comment;
    expect(topComment?.html).toBe('<p>Lovely <strong>poem</strong> &lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1))</p>\n');
    const reply = (await add(owner.token, { parentId: topComment?.id, body: 'Thank you!' })).data?.addComment.comment;
    const third = (await add(reader.token, { parentId: reply?.id, body: 'You are welcome' })).data?.addComment.comment;
    expect([topComment?.depth, reply?.depth, third?.depth]).toEqual([0, 1, 2]);
    const tooDeep = await add(owner.token, { parentId: third?.id, body: 'one level too many' });
    expect(tooDeep.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });

    const foreignEdit = await graphql(platform.gatewayUrl, `mutation($input: EditCommentInput!) { editComment(input: $input) { comment { id } } }`, {
      token: owner.token,
      variables: { input: { id: topComment?.id, body: 'hijacked' } },
    });
    expect(foreignEdit.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const edited = await graphqlData<{ editComment: { comment: { html: string; editedAt: string | null } } }>(
      platform.gatewayUrl,
      `mutation($input: EditCommentInput!) { editComment(input: $input) { comment { html editedAt } } }`,
      { token: reader.token, variables: { input: { id: topComment?.id, body: 'Lovely _poem_' } } },
    );
    expect(edited.editComment.comment).toEqual({ html: '<p>Lovely <em>poem</em></p>\n', editedAt: expect.any(String) });
    await graphqlData(platform.gatewayUrl, `mutation($input: CommentIdInput!) { deleteComment(input: $input) { comment { deletedAt } } }`, {
      token: reader.token,
      variables: { input: { id: topComment?.id } },
    });

    const thread = await asOwner<{ document: { comments: { html: string; deletedAt: string | null; author: { displayName: string }; replies: { html: string; replies: { html: string }[] }[] }[] } }>(
      `query($id: ID!) { document(id: $id) { comments { html deletedAt author { displayName } replies { html replies { html } } } } }`,
      { id: ids.ode },
    );
    expect(thread.document.comments).toEqual([
      {
        html: '',
        deletedAt: expect.any(String),
        author: { displayName: 'reader' },
        replies: [{ html: '<p>Thank you!</p>\n', replies: [{ html: '<p>You are welcome</p>\n' }] }],
      },
    ]);

    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT envelope->'payload' AS payload FROM content.outbox WHERE event_type = 'comment.replied' AND envelope->'payload'->>'parentCommentId' = $1`,
        [topComment?.id],
      );
      expect(rows.map((row) => row.payload)).toEqual([
        expect.objectContaining({ parentAuthorId: reader.userId, documentId: ids.ode, commentId: reply?.id }),
      ]);
    } finally {
      await client.end();
    }
  });

  it('turns @username mentions of known users into user.mentioned events, learning users from auth events', async () => {
    const { me } = await graphqlData<{ me: { username: string } }>(platform.gatewayUrl, '{ me { username } }', { token: reader.token });
    expect(me.username).toMatch(/^reader_[a-z0-9_]+$/);
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      // content learns users from user.registered (auth -> outbox -> Kafka -> content's consumer).
      await eventually('the reader in the content directory', async () => {
        const { rowCount } = await client.query('SELECT 1 FROM content.user_directory WHERE user_id = $1', [reader.userId]);
        return (rowCount ?? 0) > 0;
      });
      const added = await asOwner<{ addComment: { comment: { id: string } } }>(
        `mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`,
        { input: { documentId: ids.foxes, body: `Have a look, @${me.username} and @nobody_here (and me, @${'x'.repeat(2)})` } },
      );
      const { rows } = await client.query(
        `SELECT envelope->'payload' AS payload FROM content.outbox WHERE event_type = 'user.mentioned' AND envelope->'payload'->>'commentId' = $1`,
        [added.addComment.comment.id],
      );
      expect(rows.map((row) => row.payload)).toEqual([
        { mentionedUserId: reader.userId, mentionedBy: owner.userId, commentId: added.addComment.comment.id, documentId: ids.foxes },
      ]);
    } finally {
      await client.end();
    }
  });

  it("extends the auth service's User with the user's documents", async () => {
    const me = await asOwner<{ me: { displayName: string; documents: { totalCount: number } } }>(
      `{ me { displayName documents { totalCount } } }`,
    );
    expect(me.me).toEqual({ displayName: 'editor', documents: { totalCount: 5 } });
  });

  it('answers invalid input with field details', async () => {
    const invalid = await graphql(platform.gatewayUrl, CREATE_DOCUMENT, {
      token: owner.token,
      variables: { input: { title: '', body: 'x', type: 'POEM', language: 'english', tagIds: ['not-a-uuid'] } },
      headers: { 'accept-language': 'ru' },
    });
    expect(invalid.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(invalid.errors?.[0].extensions?.fields?.map((field) => field.field).sort()).toEqual(['language', 'tagIds', 'title']);
    expect(invalid.errors?.[0].extensions?.fields?.find((field) => field.field === 'language')?.message).toMatch(/ISO 639-1/);
  });

  it('writes document events to the outbox in the same transaction and relays them', async () => {
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const rows = await eventually('the document events relayed', async () => {
        const { rows: events } = await client.query<{ event_type: string; published: boolean }>(
          `SELECT event_type, published_at IS NOT NULL AS published FROM content.outbox WHERE message_key = $1 AND event_type LIKE 'document.%' ORDER BY sequence_number`,
          [ids.ode],
        );
        return events.length > 0 && events.every((row) => row.published) ? events : undefined;
      }, 10_000);
      expect(rows).toEqual([
        { event_type: 'document.created', published: true },
        { event_type: 'document.published', published: true },
      ]);
    } finally {
      await client.end();
    }
  });

  it('serves a search asked again from the Redis cache, storing it from its second asking, and never stale after a write', async () => {
    const hits = () => readMetric(platform.content.metricsUrl, 'content_search_cache_total', { outcome: 'hit' });
    const search = () => asOwner<SearchResult>(SEARCH, { input: { query: 'lighthouse' } });
    const hitsBefore = await hits();
    expect((await search()).searchDocuments.totalCount).toBe(0);
    expect((await search()).searchDocuments.totalCount).toBe(0);
    // A search asked once is not stored (most are asked once); its second asking stores it.
    expect(await hits()).toBe(hitsBefore);
    expect((await search()).searchDocuments.totalCount).toBe(0);
    expect(await hits()).toBeGreaterThan(hitsBefore);

    await asOwner(`mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { version } } }`, {
      input: { id: ids.foxes, title: 'Running foxes and the lighthouse' },
    });
    const afterWrite = await search();
    expect(afterWrite.searchDocuments.edges.map((edge) => edge.node.document.title)).toEqual(['Running foxes and the lighthouse']);
    await asOwner(`mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { version } } }`, {
      input: { id: ids.foxes, title: 'Running foxes' },
    });
  });

  it('serves hot documents from the Redis cache and never serves them stale after a write or a like', async () => {
    const hits = () => readMetric(platform.content.metricsUrl, 'content_document_cache_total', { outcome: 'hit' });
    const read = () =>
      asOwner<{ document: { title: string; likeCount: number; status: string; publishedAt: string | null } }>(
        `query($id: ID!) { document(id: $id) { title likeCount status publishedAt } }`,
        { id: ids.ode },
      ).then((data) => data.document);
    const first = await read();
    const hitsBefore = await hits();
    expect(await read()).toEqual(first);
    expect(await hits()).toBeGreaterThan(hitsBefore);
    expect(new Date(first.publishedAt as string).getTime()).toBeLessThanOrEqual(Date.now());

    await asOwner(`mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { version } } }`, {
      input: { id: ids.ode, title: 'Ode to the old forest' },
    });
    expect((await read()).title).toBe('Ode to the old forest');
    await asOwner(`mutation($input: DocumentIdInput!) { likeDocument(input: $input) { changed } }`, { input: { id: ids.ode } });
    expect((await read()).likeCount).toBe(first.likeCount + 1);
    await asOwner(`mutation($input: DocumentIdInput!) { unlikeDocument(input: $input) { changed } }`, { input: { id: ids.ode } });
    await asOwner(`mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { version } } }`, {
      input: { id: ids.ode, title: 'Ode to the forest' },
    });
    expect(await read()).toEqual(first);
  });

  it('rebuilds stale search data with the reindex command', async () => {
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      // Simulate search data gone stale (e.g. written by an older release): the tag no longer matches.
      await client.query(`UPDATE content.documents SET tag_names = '', tag_ids = '{}' WHERE id = $1`, [ids.tt]);
    } finally {
      await client.end();
    }
    const byTagName = () => asOwner<SearchResult>(SEARCH, { input: { query: 'poetry', filter: { languages: ['tt'] } } });
    expect((await byTagName()).searchDocuments.totalCount).toBe(0);

    const cli = path.join(workspaceRoot(), 'dist/apps/content/apps/content/src/cli.js');
    const { stdout } = await run(process.execPath, [cli, 'reindex'], { env: { PATH: process.env.PATH, DATABASE_URL: platform.databaseUrl } });
    expect(JSON.parse(stdout.trim())).toMatchObject({ reindexed: true, documentsFixed: 1, translationsFixed: 0 });
    // The search.reindexed event retires cached results through the outbox, Kafka and the cache's consumer.
    const found = await eventually('the reindexed document found', async () => {
      const documentIds = (await byTagName()).searchDocuments.edges.map((edge) => edge.node.document.id);
      return documentIds.length ? documentIds : undefined;
    }, 30_000);
    expect(found).toEqual([ids.tt]);

    // A statement timeout the socket timeout does not cover is refused before anything runs, naming both variables.
    const refused = await run(process.execPath, [cli, 'reindex'], {
      env: { PATH: process.env.PATH, DATABASE_URL: platform.databaseUrl, DATABASE_STATEMENT_TIMEOUT_MS: '60000' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/DATABASE_SOCKET_TIMEOUT_MS.*DATABASE_STATEMENT_TIMEOUT_MS/) });
  });

  it('isolates tenants across every content operation', async () => {
    const intruder = await registerAccount(platform.gatewayUrl, 'intruder');
    const intruderTenant = await createTenantFor(platform.gatewayUrl, intruder);
    const asIntruder = (query: string, variables?: Record<string, unknown>) =>
      graphql(platform.gatewayUrl, query, { token: intruderTenant.accessToken, variables });
    const asTenantOwner = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: owner.token, variables });
    const foreignIds = [ids.foxes, ids.ode, ids.ru, ids.tt, ids.draft, ids.poetry, ids.nature, ids.tukay];
    const violations = await findTenantIsolationViolations([
      { name: 'document(id)', kind: 'byId', foreignIds: [ids.ode, ids.draft], call: (id) => asIntruder(`query($id: ID!) { document(id: $id) { id title } }`, { id }) },
      {
        name: 'updateDocument',
        kind: 'byId',
        foreignIds: [ids.ode],
        call: (id) => asIntruder(`mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { id } } }`, { input: { id, title: 'pwned' } }),
      },
      {
        name: 'deleteDocument',
        kind: 'byId',
        foreignIds: [ids.foxes],
        call: (id) => asIntruder(`mutation($input: DocumentIdInput!) { deleteDocument(input: $input) { deletedDocumentId } }`, { input: { id } }),
      },
      {
        name: 'createDocument with a foreign tag',
        kind: 'byId',
        foreignIds: [ids.poetry],
        call: (id) => asIntruder(CREATE_DOCUMENT, { input: { title: 't', body: 'b', type: 'POEM', language: 'en', tagIds: [id] } }),
      },
      { name: 'documents', kind: 'list', foreignIds, call: () => asIntruder(`{ documents { edges { node { id } } } }`), ownerCall: () => asTenantOwner(`{ documents { edges { node { id } } } }`) },
      { name: 'tags', kind: 'list', foreignIds, call: () => asIntruder(`{ tags { id } }`), ownerCall: () => asTenantOwner(`{ tags { id } }`) },
      { name: 'authors', kind: 'list', foreignIds, call: () => asIntruder(`{ authors { edges { node { id } } } }`), ownerCall: () => asTenantOwner(`{ authors { edges { node { id } } } }`) },
      {
        name: 'searchDocuments',
        kind: 'list',
        foreignIds,
        call: () => asIntruder(SEARCH, { input: { query: 'forest OR лес OR тел OR run' } }), ownerCall: () => asTenantOwner(SEARCH, { input: { query: 'forest OR лес OR тел OR run' } }),
      },
      { name: 'suggestDocuments', kind: 'list', foreignIds, call: () => asIntruder(`{ suggestDocuments(input: { prefix: "o" }) { id } }`), ownerCall: () => asTenantOwner(`{ suggestDocuments(input: { prefix: "o" }) { id } }`) },
      ...['likeDocument', 'bookmarkDocument', 'recordDocumentView'].map((mutation) => ({
        name: mutation,
        kind: 'byId' as const,
        foreignIds: [ids.ode],
        call: (id: string) => asIntruder(`mutation($input: DocumentIdInput!) { ${mutation}(input: $input) { changed } }`, { input: { id } }),
      })),
      {
        name: 'documentDiff',
        kind: 'byId',
        foreignIds: [ids.draft],
        call: (id) => asIntruder(`query($input: DocumentDiffInput!) { documentDiff(input: $input) { toVersion } }`, { input: { documentId: id, fromVersion: 1, toVersion: 2 } }),
      },
      { name: 'documentBlame', kind: 'byId', foreignIds: [ids.ode], call: (id) => asIntruder(`query($id: ID!) { documentBlame(documentId: $id) { text } }`, { id }) },
      { name: 'trendingDocuments', kind: 'list', foreignIds, call: () => asIntruder(`{ trendingDocuments { document { id } } }`), ownerCall: () => asTenantOwner(`{ trendingDocuments { document { id } } }`) },
      {
        name: 'addComment',
        kind: 'byId',
        foreignIds: [ids.ode],
        call: (id) => asIntruder(`mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`, { input: { documentId: id, body: 'hi' } }),
      },
    ]);
    expect(violations).toEqual([]);
    const untouched = await asOwner<{ document: { title: string } }>(`query($id: ID!) { document(id: $id) { title } }`, { id: ids.ode });
    expect(untouched.document.title).toBe('Ode to the forest');
  });
});
