import { Module } from '@nestjs/common';
import { WebhookJobs } from './webhook-jobs';
import { WebhooksResolver } from './webhooks.resolver';
import { WebhooksService } from './webhooks.service';

@Module({ providers: [WebhooksService, WebhooksResolver, WebhookJobs], exports: [WebhooksService, WebhookJobs] })
export class WebhooksModule {}
