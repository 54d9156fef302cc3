import { Module } from '@nestjs/common';
import { WebhookWorker } from './webhook-worker';
import { WebhooksResolver } from './webhooks.resolver';
import { WebhooksService } from './webhooks.service';

@Module({ providers: [WebhooksService, WebhooksResolver, WebhookWorker], exports: [WebhooksService, WebhookWorker] })
export class WebhooksModule {}
