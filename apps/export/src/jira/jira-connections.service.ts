import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openSecret, sealSecret } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { uniqueViolationColumns } from '@multipult/database';
import { BadUserInputError, ConflictError, FieldProblem, NotFoundError } from '@multipult/graphql';
import { resolvesToPublic } from '@multipult/network';
import type { ExportConfig } from '../config';
import { CreateJiraConnectionInput, JiraCustomFieldInput, UpdateJiraConnectionInput } from './dto';
import { JiraClients, JiraSite, jiraFailureOf } from './jira-client';
import { JiraConnection } from './jira-connection.entity';

/** Seal contexts: a sealed token never opens as a webhook secret, nor the other way round. */
export const JIRA_TOKEN_CONTEXT = 'multipult-jira-api-tokens';
export const JIRA_WEBHOOK_SECRET_CONTEXT = 'multipult-jira-webhook-secrets';

export const CUSTOM_FIELD_PLACEHOLDERS = ['title', 'summary', 'documentId'] as const;

export const jiraWebhookPath = (connectionId: string) => `/webhooks/jira/${connectionId}`;

export interface JiraAccountInfo {
  accountId: string;
  displayName: string;
  emailAddress: string | null;
}

export interface JiraConnectionTest {
  connection: JiraConnection;
  account: JiraAccountInfo | null;
  error: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Tenants' JIRA connections: the API token and webhook secret sealed at rest, the address checked against SSRF. */
@Injectable()
export class JiraConnectionsService {
  private readonly logger = new Logger(JiraConnectionsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
    private readonly clients: JiraClients,
  ) {}

  list(tenantId: string): Promise<JiraConnection[]> {
    return this.dataSource.getRepository(JiraConnection).find({ where: { tenantId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The tenant's connection; another tenant's, or none, is NOT_FOUND alike. */
  async get(tenantId: string, id: string): Promise<JiraConnection> {
    const connection = UUID.test(id) ? await this.dataSource.getRepository(JiraConnection).findOneBy({ id, tenantId }) : null;
    if (!connection) throw new NotFoundError('JiraConnection');
    return connection;
  }

  async create(tenantId: string, userId: string, input: CreateJiraConnectionInput): Promise<{ connection: JiraConnection; webhookSecret: string }> {
    const baseUrl = await this.checkedBaseUrl(input.baseUrl);
    const customFieldValues = this.checkedCustomFields(input.customFields ?? []);
    const webhookSecret = randomBytes(32).toString('base64url');
    const repository = this.dataSource.getRepository(JiraConnection);
    const connection = await this.saveUnique(
      repository.create({
        tenantId,
        name: input.name.trim(),
        baseUrl,
        accountEmail: input.accountEmail.trim().toLowerCase(),
        sealedApiToken: this.seal(input.apiToken, JIRA_TOKEN_CONTEXT),
        projectKey: input.projectKey,
        issueTypeName: input.issueTypeName.trim(),
        subTaskTypeName: input.subTaskTypeName?.trim() ?? 'Sub-task',
        labels: [...new Set(input.labels ?? [])],
        customFieldValues,
        exportComments: input.exportComments ?? false,
        sealedWebhookSecret: this.seal(webhookSecret, JIRA_WEBHOOK_SECRET_CONTEXT),
        lastSuccessAt: null,
        lastError: null,
        lastErrorAt: null,
        createdBy: userId,
      }),
    );
    return { connection, webhookSecret };
  }

  async update(tenantId: string, input: UpdateJiraConnectionInput): Promise<JiraConnection> {
    const connection = await this.get(tenantId, input.id);
    if (input.baseUrl !== undefined) connection.baseUrl = await this.checkedBaseUrl(input.baseUrl);
    if (input.customFields !== undefined) connection.customFieldValues = this.checkedCustomFields(input.customFields);
    if (input.name !== undefined) connection.name = input.name.trim();
    if (input.accountEmail !== undefined) connection.accountEmail = input.accountEmail.trim().toLowerCase();
    if (input.apiToken !== undefined) connection.sealedApiToken = this.seal(input.apiToken, JIRA_TOKEN_CONTEXT);
    if (input.projectKey !== undefined) connection.projectKey = input.projectKey;
    if (input.issueTypeName !== undefined) connection.issueTypeName = input.issueTypeName.trim();
    if (input.subTaskTypeName !== undefined) connection.subTaskTypeName = input.subTaskTypeName.trim();
    if (input.labels !== undefined) connection.labels = [...new Set(input.labels)];
    if (input.exportComments !== undefined) connection.exportComments = input.exportComments;
    return this.saveUnique(connection);
  }

  async delete(tenantId: string, id: string): Promise<string> {
    await this.get(tenantId, id);
    await this.dataSource.getRepository(JiraConnection).delete({ id, tenantId });
    return id;
  }

  /** Signs in as the connection's account (GET /myself), recording the outcome on the connection. */
  async test(tenantId: string, id: string): Promise<JiraConnectionTest> {
    const connection = await this.get(tenantId, id);
    try {
      const myself = await this.clients.call(this.siteOf(connection), (client) => client.myself.getCurrentUser());
      await this.recordSuccess(connection.id);
      return {
        connection: await this.get(tenantId, id),
        account: { accountId: myself.accountId ?? '', displayName: myself.displayName ?? '', emailAddress: myself.emailAddress ?? null },
        error: null,
      };
    } catch (error) {
      const failure = jiraFailureOf(error);
      this.logger.warn({ connectionId: id, status: failure.status, reason: failure.message }, 'JIRA connection test failed');
      await this.recordError(connection.id, failure.message);
      return { connection: await this.get(tenantId, id), account: null, error: failure.message };
    }
  }

  /** Where and as whom the exporter calls JIRA (the token opened). */
  siteOf(connection: JiraConnection): JiraSite {
    return {
      id: connection.id,
      baseUrl: connection.baseUrl,
      email: connection.accountEmail,
      apiToken: openSecret(connection.sealedApiToken, this.config.JIRA_TOKEN_SEAL_KEY, JIRA_TOKEN_CONTEXT),
    };
  }

  webhookSecretOf(connection: JiraConnection): string {
    return openSecret(connection.sealedWebhookSecret, this.config.JIRA_TOKEN_SEAL_KEY, JIRA_WEBHOOK_SECRET_CONTEXT);
  }

  async recordSuccess(id: string): Promise<void> {
    await this.dataSource.query('UPDATE jira_connections SET last_success_at = now() WHERE id = $1', [id]);
  }

  async recordError(id: string, message: string): Promise<void> {
    await this.dataSource.query('UPDATE jira_connections SET last_error = $2, last_error_at = now() WHERE id = $1', [id, message.slice(0, 1000)]);
  }

  private seal(plaintext: string, context: string): string {
    return sealSecret(plaintext, this.config.JIRA_TOKEN_SEAL_KEY, context);
  }

  private async saveUnique(connection: JiraConnection): Promise<JiraConnection> {
    try {
      return await this.dataSource.getRepository(JiraConnection).save(connection);
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.jira_connection_exists');
      throw error;
    }
  }

  /** https (http too where private networks are allowed, for local JIRA fakes), no credentials, query or fragment; public hosts only. */
  private async checkedBaseUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw BadUserInputError.field('baseUrl', 'validation.jiraBaseUrl');
    }
    const protocols = this.config.JIRA_ALLOW_PRIVATE_NETWORKS ? ['https:', 'http:'] : ['https:'];
    if (!protocols.includes(url.protocol) || url.username || url.password || url.search || url.hash) {
      throw BadUserInputError.field('baseUrl', 'validation.jiraBaseUrl');
    }
    if (!this.config.JIRA_ALLOW_PRIVATE_NETWORKS && !(await resolvesToPublic(url.hostname))) {
      throw BadUserInputError.field('baseUrl', 'errors.jira_private_target');
    }
    return url.toString().replace(/\/+$/, '');
  }

  private checkedCustomFields(fields: JiraCustomFieldInput[]): Record<string, string> {
    const problems: FieldProblem[] = [];
    const values: Record<string, string> = {};
    fields.forEach((field, index) => {
      const placeholders = [...field.value.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((match) => match[1]);
      if (placeholders.some((name) => !(CUSTOM_FIELD_PLACEHOLDERS as readonly string[]).includes(name))) {
        problems.push({ field: `customFields.${index}.value`, key: 'validation.jiraCustomFieldPlaceholder' });
      }
      if (field.fieldId in values) problems.push({ field: `customFields.${index}.fieldId`, key: 'validation.jiraCustomFieldDuplicate' });
      values[field.fieldId] = field.value;
    });
    if (problems.length) throw new BadUserInputError(problems);
    return values;
  }
}
