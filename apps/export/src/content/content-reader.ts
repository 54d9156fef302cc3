import { Injectable, Logger } from '@nestjs/common';
import { DelegatedAccess, DelegationError } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { serviceEntry } from '@multipult/registry';
import { calledSubgraphUrl } from '@multipult/subgraph';
import type { ExportConfig } from '../config';

/** What an export needs of a document: the fields the PDF shows, read as the exporting user. */
export interface ContentDocument {
  id: string;
  title: string;
  summary: string;
  body: string;
  language: string;
  status: string;
  updatedAt: string;
}

export interface ExportComment {
  id: string;
  markdown: string;
  /** Display name. */
  author: string;
}

interface RawComment {
  id: string;
  markdown: string;
  author: { id: string };
}

export interface DocumentSelection {
  documentIds?: string[];
  collectionId?: string;
  search?: { query: string; languages?: string[] };
}

/** The content service refused or could not answer; `transient` ones are worth retrying. */
export class ContentUnavailableError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'ContentUnavailableError';
  }
}

/** The user may no longer act in the tenant (left it, banned, erased): the export cannot run as them. */
export class ExporterGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExporterGoneError';
  }
}

const PAGE_SIZE = 100;
const READ_BATCH = 25;
const DOCUMENT_FIELDS = 'id title summary body language status updatedAt';

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

/**
 * Reads documents (and their comments' authors, from auth) from the subgraphs as the user an export belongs to, with a delegated
 * token (libs/auth delegation.ts): content applies its own read rules, so an export holds exactly
 * what its user could open — a reader never exports a draft they cannot see.
 */
@Injectable()
export class ContentReader {
  private readonly logger = new Logger(ContentReader.name);
  private readonly access: DelegatedAccess;
  private readonly url: string;
  private readonly authUrl: string;

  constructor(@InjectConfig() config: ExportConfig) {
    this.url = calledSubgraphUrl(config, 'content');
    this.authUrl = calledSubgraphUrl(config, 'auth');
    this.access = new DelegatedAccess({
      service: 'export',
      secret: config.INTERNAL_API_SECRET,
      issuerUrl: new URL(config.AUTH_JWKS_URL as string).origin,
      scope: serviceEntry('export').delegates,
    });
  }

  /**
   * The comments of documents (top-level ones, then their replies), oldest first, with their
   * authors' display names from auth (federation's `_entities`), for JIRA sub-tasks.
   */
  async comments(userId: string, tenantId: string, documentIds: readonly string[]): Promise<Map<string, ExportComment[]>> {
    const byDocument = new Map<string, ExportComment[]>();
    for (let start = 0; start < documentIds.length; start += READ_BATCH) {
      const batch = documentIds.slice(start, start + READ_BATCH);
      const variables = Object.fromEntries(batch.map((id, index) => [`id${index}`, id]));
      const fields = 'id markdown createdAt author { id }';
      const query = `query ExportComments(${batch.map((_, index) => `$id${index}: ID!`).join(', ')}) {
        ${batch.map((_, index) => `d${index}: document(id: $id${index}) { id comments { ${fields} replies { ${fields} } } }`).join('\n')}
      }`;
      const data = await this.call<Record<string, { id: string; comments: (RawComment & { replies: RawComment[] })[] } | null>>(userId, tenantId, query, variables, { partial: true });
      for (const document of Object.values(data ?? {})) {
        if (document) byDocument.set(document.id, document.comments.flatMap((comment) => [comment, ...comment.replies]).map((comment) => ({ id: comment.id, markdown: comment.markdown, author: comment.author.id })));
      }
    }
    const names = await this.displayNames(userId, tenantId, [...new Set([...byDocument.values()].flat().map((comment) => comment.author))]);
    for (const comments of byDocument.values()) for (const comment of comments) comment.author = names.get(comment.author) ?? 'a former member';
    return byDocument;
  }

  /** Users' display names, resolved by the token issuer as the gateway would (`_entities`). */
  private async displayNames(userId: string, tenantId: string, ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const data = await this.call<{ _entities: ({ id: string; displayName: string } | null)[] }>(
      userId,
      tenantId,
      `query ExportAuthors($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id displayName } } }`,
      { representations: ids.map((id) => ({ __typename: 'User', id })) },
      { url: this.authUrl },
    );
    return new Map((data?._entities ?? []).flatMap((user) => (user ? [[user.id, user.displayName] as const] : [])));
  }

  /** The user's name and address, for title pages and per-recipient watermarks. */
  async userOf(userId: string, tenantId: string): Promise<{ email: string; displayName: string }> {
    return (await this.token(userId, tenantId)).user;
  }

  /**
   * Ids and titles of the selected documents the user may read, in selection order (collection
   * order, search relevance, or the order given); ids the user cannot read are returned in `missing`.
   */
  async resolve(userId: string, tenantId: string, selection: DocumentSelection, limit: number): Promise<{ documents: { id: string; title: string }[]; missing: string[] }> {
    if (selection.documentIds) {
      const found = await this.read(userId, tenantId, selection.documentIds);
      const documents = selection.documentIds.flatMap((id) => {
        const document = found.get(id);
        return document ? [{ id, title: document.title }] : [];
      });
      return { documents, missing: selection.documentIds.filter((id) => !found.has(id)) };
    }
    const documents: { id: string; title: string }[] = [];
    let after: string | null = null;
    do {
      const page: { nodes: { id: string; title: string }[]; endCursor: string | null; hasNextPage: boolean } = selection.collectionId
        ? await this.collectionPage(userId, tenantId, selection.collectionId, after)
        : await this.searchPage(userId, tenantId, selection.search as { query: string; languages?: string[] }, after);
      documents.push(...page.nodes);
      after = page.hasNextPage ? page.endCursor : null;
    } while (after && documents.length < limit + 1);
    return { documents, missing: [] };
  }

  /** The readable ones of `ids`, by id; a document deleted or no longer readable is absent. */
  async read(userId: string, tenantId: string, ids: readonly string[]): Promise<Map<string, ContentDocument>> {
    const found = new Map<string, ContentDocument>();
    for (let start = 0; start < ids.length; start += READ_BATCH) {
      const batch = ids.slice(start, start + READ_BATCH);
      const variables = Object.fromEntries(batch.map((id, index) => [`id${index}`, id]));
      const query = `query ExportDocuments(${batch.map((_, index) => `$id${index}: ID!`).join(', ')}) {
        ${batch.map((_, index) => `d${index}: document(id: $id${index}) { ${DOCUMENT_FIELDS} }`).join('\n')}
      }`;
      const response = await this.call<Record<string, ContentDocument | null>>(userId, tenantId, query, variables, { partial: true });
      for (const document of Object.values(response ?? {})) if (document) found.set(document.id, document);
    }
    return found;
  }

  private async collectionPage(userId: string, tenantId: string, collectionId: string, after: string | null) {
    const data = await this.call<{ collection: { documents: { edges: { node: { id: string; title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null }>(
      userId,
      tenantId,
      `query ExportCollection($id: ID!, $first: Int!, $after: String) {
        collection(id: $id) { documents(first: $first, after: $after) { edges { node { id title } } pageInfo { hasNextPage endCursor } } }
      }`,
      { id: collectionId, first: PAGE_SIZE, after },
      { partial: true },
    );
    if (!data?.collection) throw new ContentUnavailableError('collection not found', false);
    const { edges, pageInfo } = data.collection.documents;
    return { nodes: edges.map((edge) => edge.node), ...pageInfo };
  }

  private async searchPage(userId: string, tenantId: string, search: { query: string; languages?: string[] }, after: string | null) {
    const data = await this.call<{ searchDocuments: { edges: { node: { document: { id: string; title: string } } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
      userId,
      tenantId,
      `query ExportSearch($input: SearchDocumentsInput!) {
        searchDocuments(input: $input) { edges { node { document { id title } } } pageInfo { hasNextPage endCursor } }
      }`,
      // Newest first pages through every match; relevance order ranks only the first SEARCH_TOTAL_HITS_LIMIT of them.
      {
        input: {
          query: search.query,
          filter: search.languages?.length ? { languages: search.languages } : undefined,
          sort: 'NEWEST',
          first: PAGE_SIZE,
          after,
        },
      },
    );
    const { edges, pageInfo } = (data as NonNullable<typeof data>).searchDocuments;
    return { nodes: edges.map((edge) => edge.node.document), ...pageInfo };
  }

  private async token(userId: string, tenantId: string) {
    try {
      return await this.access.tokenFor(userId, tenantId);
    } catch (error) {
      if (error instanceof DelegationError && error.status === 404) throw new ExporterGoneError(error.message);
      if (error instanceof DelegationError) throw new ContentUnavailableError(`delegation refused: ${error.message}`, false);
      throw new ContentUnavailableError(`delegation failed: ${(error as Error).message}`, true);
    }
  }

  /**
   * One GraphQL call as the user. `partial`: NOT_FOUND errors of single fields are answers (a
   * document the user cannot read), not failures.
   */
  private async call<T>(userId: string, tenantId: string, query: string, variables: Record<string, unknown>, options: { partial?: boolean; url?: string } = {}): Promise<T | null> {
    const token = await this.token(userId, tenantId);
    let response: Response;
    try {
      response = await fetch(options.url ?? this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token.accessToken}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new ContentUnavailableError(`content unreachable: ${(error as Error).message}`, true);
    }
    if (response.status >= 500 || response.status === 429) throw new ContentUnavailableError(`content answered HTTP ${response.status}`, true);
    const body = (await response.json().catch(() => ({}))) as GraphQLResponse<T>;
    const failures = (body.errors ?? []).filter((error) => !(options.partial && error.extensions?.code === 'NOT_FOUND'));
    if (failures.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) {
      this.access.forget(userId, tenantId);
      throw new ContentUnavailableError('content refused the delegated token', true);
    }
    if (failures.length) {
      const code = failures[0].extensions?.code;
      throw new ContentUnavailableError(`content: ${failures[0].message}`, code === 'INTERNAL' || code === undefined);
    }
    return body.data ?? null;
  }
}
