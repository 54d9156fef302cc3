import { Module } from '@nestjs/common';
import { JiraClients } from './jira-client';
import { JiraConnectionsResolver } from './jira-connections.resolver';
import { JiraConnectionsService } from './jira-connections.service';
import { JiraIssueExporter } from './jira-issue-exporter';
import { JiraWebhooksController } from './jira-webhooks.controller';

/** JIRA connections (GraphQL), the bulk issue exporter export jobs call, and JIRA's inbound webhooks. */
@Module({
  providers: [JiraClients, JiraConnectionsService, JiraConnectionsResolver, JiraIssueExporter],
  controllers: [JiraWebhooksController],
  exports: [JiraIssueExporter, JiraConnectionsService],
})
export class JiraModule {}
