import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { markdownToAdf } from 'marklassian';
import type { Version3Client } from 'jira.js';
import { InjectConfig } from '@multipult/config';
import { equalJitterDelay } from '@multipult/events';
import type { ExportConfig } from '../config';
import { JiraClients, JiraFailure, JiraPausedTooLongError, JiraSite, jiraFailureOf } from './jira-client';
import { JiraConnection } from './jira-connection.entity';
import { JiraConnectionsService } from './jira-connections.service';

const jiraExportCommentSchema = z.object({ id: z.string().min(1).max(200), markdown: z.string(), author: z.string() });

/** What the export job hands over per item; exportItemId is the issue's idempotency key (label mp-export-item-<id>). */
export const jiraExportItemSchema = z.object({
  exportItemId: z.uuid(),
  documentId: z.uuid(),
  title: z.string(),
  summary: z.string(),
  markdown: z.string(),
  comments: z.array(jiraExportCommentSchema).optional(),
});

export type JiraExportComment = z.infer<typeof jiraExportCommentSchema>;
export type JiraExportItem = z.infer<typeof jiraExportItemSchema>;

/** An item JIRA kept refusing (validation), after JIRA_MAX_ATTEMPTS attempts. */
export interface JiraExportItemError {
  code: 'JIRA_REJECTED';
  /** JIRA's messages, e.g. `summary: …`. */
  messages: string[];
}

export type JiraExportResult =
  | { exportItemId: string; issueKey: string; created: boolean; error?: undefined }
  | { exportItemId: string; issueKey: null; created: false; error: JiraExportItemError };

export interface JiraExportOptions {
  /** Checked before every batch and while waiting: aborting stops the export (what is created stays recorded). */
  signal?: AbortSignal;
  /** Items settled so far (created, found or refused), after each batch. */
  onProgress?: (done: number) => void;
  /**
   * The items were never sent to JIRA before (the export job's first attempt), so the first lookup
   * by label can be skipped: it would find nothing. Retries after a refusal or a failed call always
   * look up first, since JIRA may have created an issue without telling us.
   */
  neverSent?: boolean;
}

export type JiraExportErrorCode = 'JIRA_UNAUTHORIZED' | 'JIRA_FORBIDDEN' | 'JIRA_UNAVAILABLE' | 'JIRA_REQUEST_REFUSED' | 'JIRA_RATE_LIMITED';

/** The whole export cannot go on through this connection (the job fails, or retries later for JIRA_UNAVAILABLE/JIRA_RATE_LIMITED). */
export class JiraExportError extends Error {
  constructor(
    readonly code: JiraExportErrorCode,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'JiraExportError';
  }
}

export const BULK_CREATE_LIMIT = 50;
const SUMMARY_LIMIT = 255;

export const exportItemLabel = (exportItemId: string) => `mp-export-item-${exportItemId}`;
export const exportCommentLabel = (commentId: string) => `mp-export-comment-${commentId.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** JIRA's summary: one line of at most 255 characters. */
function issueSummary(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim() || 'Untitled';
  return line.length > SUMMARY_LIMIT ? `${line.slice(0, SUMMARY_LIMIT - 1)}…` : line;
}

function fillPlaceholders(template: string, item: JiraExportItem): string {
  const values: Record<string, string> = { title: item.title, summary: item.summary, documentId: item.documentId };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}

const jqlString = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

interface BulkCreateAnswer {
  issues?: { id?: string; key?: string }[];
  errors?: { failedElementNumber?: number; elementErrors?: { errorMessages?: string[]; errors?: Record<string, string> } }[];
}

interface FoundIssue {
  id: string;
  key: string;
}

/** One issue to create, identified by a label of its own. */
interface IssueEntry {
  label: string;
  fields: Record<string, unknown>;
}

type EntryOutcome = { issue: FoundIssue; created: boolean } | { error: JiraExportItemError };

/**
 * Creates JIRA issues for export items through a connection, idempotently: every issue carries the
 * label mp-export-item-<exportItemId>, and before each bulk create one JQL search finds the batch's
 * items that already have an issue (a retried or resumed export, or a create whose answer was
 * lost), which are reused. Links are recorded in jira_issue_links.
 *
 * Batches of at most 50 go to POST /issue/bulk; entries JIRA refuses are retried alone with
 * backoff and become a JIRA_REJECTED result after JIRA_MAX_ATTEMPTS. 5xx and network failures are
 * retried with backoff (the lookup runs again first); 429 and the rate limit headers pause the
 * connection for every replica (see JiraClients); 401/403 stop at once with a typed error recorded
 * as the connection's lastError.
 */
@Injectable()
export class JiraIssueExporter {
  private readonly logger = new Logger(JiraIssueExporter.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
    private readonly connections: JiraConnectionsService,
    private readonly clients: JiraClients,
  ) {}

  /** Throws a ZodError for malformed items (before calling JIRA), NotFoundError for a connection not of the tenant, JiraExportError when JIRA cannot be used. */
  async exportItems(connectionId: string, tenantId: string, items: JiraExportItem[], options: JiraExportOptions = {}): Promise<JiraExportResult[]> {
    z.array(jiraExportItemSchema).parse(items);
    const connection = await this.connections.get(tenantId, connectionId);
    const site = this.connections.siteOf(connection);
    const results = new Map<string, JiraExportResult>();
    const unique = [...new Map(items.map((item) => [item.exportItemId, item])).values()];
    try {
      for (const [exportItemId, issueKey] of await this.recordedLinks(connection.id, unique)) {
        results.set(exportItemId, { exportItemId, issueKey, created: false });
      }
      options.onProgress?.(results.size);
      const pending = unique.filter((item) => !results.has(item.exportItemId));
      for (let start = 0; start < pending.length; start += BULK_CREATE_LIMIT) {
        options.signal?.throwIfAborted();
        const batch = pending.slice(start, start + BULK_CREATE_LIMIT);
        for (const result of await this.exportBatch(connection, site, batch, options)) results.set(result.exportItemId, result);
        options.onProgress?.(results.size);
      }
      if (connection.exportComments) await this.exportComments(connection, site, unique, results, options.signal);
      await this.connections.recordSuccess(connection.id);
    } catch (error) {
      const failure = this.exportErrorOf(error);
      if (failure) {
        await this.connections.recordError(connection.id, failure.message);
        throw failure;
      }
      throw error;
    }
    // Every item has settled by now (created, found, or refused), in the caller's order.
    return unique.flatMap((item) => results.get(item.exportItemId) ?? []);
  }

  private async recordedLinks(connectionId: string, items: JiraExportItem[]): Promise<Map<string, string>> {
    const rows: { export_item_id: string; issue_key: string }[] = await this.dataSource.query(
      'SELECT export_item_id, issue_key FROM jira_issue_links WHERE connection_id = $1 AND export_item_id = ANY($2::uuid[])',
      [connectionId, items.map((item) => item.exportItemId)],
    );
    return new Map(rows.map((row) => [row.export_item_id, row.issue_key]));
  }

  /** One batch of items: their issues created once (see createOnce), the links recorded. */
  private async exportBatch(connection: JiraConnection, site: JiraSite, batch: JiraExportItem[], options: JiraExportOptions): Promise<JiraExportResult[]> {
    const outcomes = await this.createOnce(
      connection,
      site,
      batch.map((item) => ({ label: exportItemLabel(item.exportItemId), fields: this.issueFields(connection, item) })),
      options.signal,
      options.neverSent ?? false,
    );
    const results: JiraExportResult[] = [];
    const links: { item: JiraExportItem; issue: FoundIssue }[] = [];
    for (const item of batch) {
      const outcome = outcomes.get(exportItemLabel(item.exportItemId));
      if (!outcome) continue;
      if ('error' in outcome) {
        this.logger.warn({ connectionId: connection.id, exportItemId: item.exportItemId, messages: outcome.error.messages }, 'JIRA kept refusing an export item');
        results.push({ exportItemId: item.exportItemId, issueKey: null, created: false, error: outcome.error });
      } else {
        links.push({ item, issue: outcome.issue });
        results.push({ exportItemId: item.exportItemId, issueKey: outcome.issue.key, created: outcome.created });
      }
    }
    await this.recordLinks(connection, links);
    return results;
  }

  /**
   * Issues for up to 50 entries, each identified by its label, created at most once: one JQL search
   * finds the entries that already have an issue, one bulk create makes the rest, and the entries
   * JIRA refused are tried again alone (search first) with backoff, until JIRA_MAX_ATTEMPTS. A 5xx
   * or lost answer is retried the same way, so an issue JIRA created without telling us is found,
   * not made twice.
   */
  private async createOnce(connection: JiraConnection, site: JiraSite, entries: IssueEntry[], signal?: AbortSignal, neverSent = false): Promise<Map<string, EntryOutcome>> {
    const outcomes = new Map<string, EntryOutcome>();
    const attempts = new Map<string, number>();
    let pending = entries;
    let transientFailures = 0;
    let refusals = 0;
    let lookUp = !neverSent;
    while (pending.length) {
      signal?.throwIfAborted();
      try {
        const found = lookUp ? await this.findByLabels(site, connection.projectKey, pending.map((entry) => entry.label), signal) : new Map<string, FoundIssue>();
        lookUp = true;
        for (const [label, issue] of found) outcomes.set(label, { issue, created: false });
        pending = pending.filter((entry) => !found.has(entry.label));
        if (!pending.length) break;

        for (const entry of pending) attempts.set(entry.label, (attempts.get(entry.label) ?? 0) + 1);
        const answer = await this.bulkCreate(site, pending.map((entry) => entry.fields), signal);
        transientFailures = 0;
        const failed = new Map((answer.errors ?? []).map((error) => [error.failedElementNumber ?? -1, error]));
        const createdIssues = answer.issues ?? [];
        pending
          .filter((_entry, index) => !failed.has(index))
          .forEach((entry, index) => outcomes.set(entry.label, { issue: { id: String(createdIssues[index]?.id), key: String(createdIssues[index]?.key) }, created: true }));

        const refused: IssueEntry[] = [];
        pending.forEach((entry, index) => {
          const error = failed.get(index);
          if (!error) return;
          if ((attempts.get(entry.label) ?? 0) < this.config.JIRA_MAX_ATTEMPTS) return void refused.push(entry);
          const messages = [
            ...(error.elementErrors?.errorMessages ?? []),
            ...Object.entries(error.elementErrors?.errors ?? {}).map(([field, problem]) => `${field}: ${problem}`),
          ];
          outcomes.set(entry.label, { error: { code: 'JIRA_REJECTED', messages } });
        });
        pending = refused;
        if (pending.length) {
          refusals += 1;
          await this.backoff(refusals, signal);
        }
      } catch (error) {
        const failure = jiraFailureOf(error);
        if (error instanceof JiraPausedTooLongError || !this.isTransient(error, failure)) throw error;
        transientFailures += 1;
        if (failure.status !== 429 && transientFailures >= this.config.JIRA_MAX_ATTEMPTS) {
          throw new JiraExportError('JIRA_UNAVAILABLE', `JIRA kept failing: ${failure.message}`, failure.status);
        }
        this.logger.warn({ connectionId: connection.id, status: failure.status, reason: failure.message }, 'JIRA call failed; retrying');
        if (failure.status !== 429) await this.backoff(transientFailures, signal);
      }
    }
    return outcomes;
  }

  /** Bulk create; JIRA answers 400 with the same body when every entry failed, which is a partial failure of all. */
  private async bulkCreate(site: JiraSite, updates: Record<string, unknown>[], signal?: AbortSignal): Promise<BulkCreateAnswer> {
    try {
      return (await this.clients.call(site, (client) => client.issues.createIssues({ issueUpdates: updates.map((fields) => ({ fields })) }), signal)) as BulkCreateAnswer;
    } catch (error) {
      const failure = jiraFailureOf(error);
      const body = failure.body as BulkCreateAnswer | undefined;
      if (failure.status === 400 && Array.isArray(body?.errors) && body.errors.length === updates.length) return { issues: [], errors: body.errors };
      throw error;
    }
  }

  /** Issues of the project carrying any of the labels (all pages), by label. */
  private async findByLabels(site: JiraSite, projectKey: string, labels: string[], signal?: AbortSignal): Promise<Map<string, FoundIssue>> {
    const found = new Map<string, FoundIssue>();
    const jql = `project = ${jqlString(projectKey)} AND labels in (${labels.map(jqlString).join(', ')})`;
    let nextPageToken: string | undefined;
    do {
      const page = await this.clients.call(
        site,
        (client: Version3Client) => client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql, fields: ['labels'], maxResults: 100, nextPageToken }),
        signal,
      );
      for (const issue of page.issues ?? []) {
        for (const label of (issue.fields?.labels as string[] | undefined) ?? []) {
          if (labels.includes(label) && !found.has(label)) found.set(label, { id: String(issue.id), key: String(issue.key) });
        }
      }
      nextPageToken = page.nextPageToken ?? undefined;
    } while (nextPageToken);
    return found;
  }

  private issueFields(connection: JiraConnection, item: JiraExportItem): Record<string, unknown> {
    const custom = Object.fromEntries(Object.entries(connection.customFieldValues).map(([fieldId, template]) => [fieldId, fillPlaceholders(template, item)]));
    return {
      ...custom,
      project: { key: connection.projectKey },
      issuetype: { name: connection.issueTypeName },
      summary: issueSummary(item.title),
      description: markdownToAdf(item.markdown),
      labels: [...new Set([...connection.labels, exportItemLabel(item.exportItemId)])],
    };
  }

  /**
   * Comments as sub-tasks of their item's issue (label mp-export-comment-<id>), each created once,
   * in bulk like the items. A comment JIRA keeps refusing is logged and left out; its item stands.
   */
  private async exportComments(
    connection: JiraConnection,
    site: JiraSite,
    items: JiraExportItem[],
    results: Map<string, JiraExportResult>,
    signal?: AbortSignal,
  ): Promise<void> {
    const entries = items.flatMap((item) => {
      const parentKey = results.get(item.exportItemId)?.issueKey;
      if (!parentKey) return [];
      return (item.comments ?? []).map((comment) => ({
        label: exportCommentLabel(comment.id),
        fields: {
          project: { key: connection.projectKey },
          issuetype: { name: connection.subTaskTypeName },
          parent: { key: parentKey },
          summary: issueSummary(`Comment by ${comment.author}`),
          description: markdownToAdf(comment.markdown),
          labels: [...new Set([...connection.labels, exportCommentLabel(comment.id)])],
        },
      }));
    });
    for (let start = 0; start < entries.length; start += BULK_CREATE_LIMIT) {
      signal?.throwIfAborted();
      const outcomes = await this.createOnce(connection, site, entries.slice(start, start + BULK_CREATE_LIMIT), signal);
      for (const [label, outcome] of outcomes) {
        if ('error' in outcome) this.logger.warn({ connectionId: connection.id, label, messages: outcome.error.messages }, 'JIRA kept refusing a comment sub-task');
      }
    }
  }

  private isTransient(error: unknown, failure: JiraFailure): boolean {
    if (error instanceof JiraExportError || (error as Error)?.name === 'AbortError' || failure.privateTarget) return false;
    return failure.status === null || failure.status === 429 || failure.status >= 500;
  }

  private backoff(retry: number, signal?: AbortSignal): Promise<void> {
    return sleep(equalJitterDelay(retry, { initialMs: this.config.JIRA_RETRY_INITIAL_MS, maxMs: this.config.JIRA_RETRY_MAX_MS }), undefined, { signal });
  }

  private async recordLinks(connection: JiraConnection, links: { item: JiraExportItem; issue: FoundIssue }[]): Promise<void> {
    if (!links.length) return;
    await this.dataSource.query(
      `INSERT INTO jira_issue_links (tenant_id, connection_id, export_item_id, document_id, issue_key, issue_id)
       SELECT $1, $2, link.export_item_id, link.document_id, link.issue_key, link.issue_id
       FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[]) AS link (export_item_id, document_id, issue_key, issue_id)
       ON CONFLICT (connection_id, export_item_id) DO UPDATE SET issue_key = EXCLUDED.issue_key, issue_id = EXCLUDED.issue_id, updated_at = now()`,
      [
        connection.tenantId,
        connection.id,
        links.map(({ item }) => item.exportItemId),
        links.map(({ item }) => item.documentId),
        links.map(({ issue }) => issue.key),
        links.map(({ issue }) => issue.id),
      ],
    );
  }

  /** The typed error a failure stops the export with (recorded on the connection), or null to rethrow as is (cancellation). */
  private exportErrorOf(error: unknown): JiraExportError | null {
    if (error instanceof JiraExportError) return error;
    if ((error as Error)?.name === 'AbortError' || error === undefined) return null;
    if (error instanceof JiraPausedTooLongError) return new JiraExportError('JIRA_RATE_LIMITED', error.message, 429);
    const failure = jiraFailureOf(error);
    if (failure.status === 401) return new JiraExportError('JIRA_UNAUTHORIZED', `JIRA refused the credentials: ${failure.message}`, 401);
    if (failure.status === 403) return new JiraExportError('JIRA_FORBIDDEN', `JIRA refused access: ${failure.message}`, 403);
    if (failure.privateTarget) return new JiraExportError('JIRA_REQUEST_REFUSED', 'The JIRA address is not public', null);
    if (failure.status === null || failure.status >= 500) return new JiraExportError('JIRA_UNAVAILABLE', failure.message, failure.status);
    return new JiraExportError('JIRA_REQUEST_REFUSED', failure.message, failure.status);
  }
}
