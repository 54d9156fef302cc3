import { Controller, HttpCode, Inject, Logger, Param, Post, Req, Res } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { JiraIssueUpdated, OutboxWriter } from '@multipult/events';
import { RequestContext } from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { ExportConfig } from '../config';
import { JiraConnection } from './jira-connection.entity';
import { JiraConnectionsService } from './jira-connections.service';
import { JiraIssueLink } from './jira-issue-link.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the handler reads of a JIRA issue webhook. */
interface JiraIssueWebhook {
  webhookEvent?: unknown;
  issue?: { key?: unknown; fields?: { status?: { name?: unknown } } };
  changelog?: { items?: { field?: unknown; fromString?: unknown; toString?: unknown }[] };
}

/** Whether `header` is `sha256=<hex HMAC-SHA256 of body>` with the secret; compared in constant time. */
export function validJiraSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}

const text = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);

function refusal(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code, requestId: RequestContext.current()?.requestId } }] });
}

/**
 * JIRA's webhooks for a connection (registered in JIRA with the secret createJiraConnection showed):
 * the X-Hub-Signature HMAC of the raw body is checked with the connection's secret, a delivery
 * seen before (X-Atlassian-Webhook-Identifier, remembered in Redis) is dropped, and an issue's new
 * status is recorded on its link with jira.issue_updated in the outbox, in one transaction.
 */
@Controller('webhooks/jira')
export class JiraWebhooksController {
  private readonly logger = new Logger(JiraWebhooksController.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly connections: JiraConnectionsService,
    private readonly outbox: OutboxWriter,
  ) {}

  @Post(':connectionId')
  @HttpCode(200)
  async receive(@Param('connectionId') connectionId: string, @Req() req: RawBodyRequest<Request>, @Res() res: Response): Promise<void> {
    const connection = UUID.test(connectionId) ? await this.dataSource.getRepository(JiraConnection).findOneBy({ id: connectionId }) : null;
    if (!connection) return refusal(res, 404, 'NOT_FOUND', 'No such JIRA connection');
    const rawBody = req.rawBody;
    if (!rawBody || !validJiraSignature(this.connections.webhookSecretOf(connection), rawBody, req.header('x-hub-signature'))) {
      this.logger.warn({ connectionId, ip: req.ip }, 'JIRA webhook refused: missing or invalid signature');
      return refusal(res, 401, 'UNAUTHENTICATED', 'Invalid webhook signature');
    }
    const identifier = req.header('x-atlassian-webhook-identifier');
    if (!identifier) return refusal(res, 400, 'BAD_REQUEST', 'X-Atlassian-Webhook-Identifier is required');
    const seenKey = `jira:webhook-seen:${connection.id}:${identifier}`;
    if ((await this.store.increment(seenKey, 1, this.config.JIRA_WEBHOOK_DEDUP_SECONDS * 1000)) > 1) {
      this.logger.log({ connectionId, identifier }, 'JIRA webhook dropped: delivered before');
      res.status(200).json({ received: true, duplicate: true });
      return;
    }
    try {
      await this.record(connection, req.body as JiraIssueWebhook);
    } catch (error) {
      // Not recorded: let JIRA's redelivery through.
      await this.store.del(seenKey);
      throw error;
    }
    res.status(200).json({ received: true, duplicate: false });
  }

  private async record(connection: JiraConnection, webhook: JiraIssueWebhook): Promise<void> {
    const issueKey = text(webhook.issue?.key);
    const webhookEvent = text(webhook.webhookEvent);
    if (!issueKey || !webhookEvent) return;
    const statusChange = webhook.changelog?.items?.find((item) => item.field === 'status');
    const status = text(webhook.issue?.fields?.status?.name) ?? text(statusChange?.toString);
    await this.dataSource.transaction(async (manager) => {
      const link = await manager.findOneBy(JiraIssueLink, { connectionId: connection.id, issueKey });
      const previousStatus = text(statusChange?.fromString) ?? link?.status ?? null;
      if (link && status !== null) await manager.update(JiraIssueLink, { id: link.id }, { status });
      await this.outbox.enqueue(manager, JiraIssueUpdated, {
        aggregateId: connection.id,
        tenantId: connection.tenantId,
        actorId: null,
        payload: {
          connectionId: connection.id,
          issueKey,
          documentId: link?.documentId ?? null,
          exportItemId: link?.exportItemId ?? null,
          status,
          previousStatus,
          webhookEvent,
        },
      });
    });
  }
}
