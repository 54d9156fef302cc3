import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { Connection } from '@multipult/graphql';
import {
  CreateWebhookEndpointInput,
  DeleteWebhookEndpointPayload,
  RedeliverWebhookInput,
  RedeliverWebhookPayload,
  UpdateWebhookEndpointInput,
  WebhookDeliveriesArgs,
  WebhookDeliveryConnection,
  WebhookEndpointIdInput,
  WebhookEndpointPayload,
  WebhookSecretPayload,
} from './dto';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from './webhook-events';
import { WebhooksService } from './webhooks.service';

@Resolver(() => WebhookEndpoint)
export class WebhooksResolver {
  constructor(private readonly webhooksService: WebhooksService) {}

  @Query(() => [String], { description: 'Event types webhooks can subscribe to (or `*` for all)' })
  webhookEventTypes(): string[] {
    return [...WEBHOOK_EVENT_TYPES, ALL_EVENTS];
  }

  @RequirePermissions('webhooks:manage')
  @Query(() => [WebhookEndpoint], { description: "The tenant's webhook endpoints" })
  webhookEndpoints(@CurrentTenant() tenantId: string): Promise<WebhookEndpoint[]> {
    return this.webhooksService.list(tenantId);
  }

  @RequirePermissions('webhooks:manage')
  @Query(() => WebhookDeliveryConnection, { description: "An endpoint's delivery log, newest first" })
  webhookDeliveries(@CurrentTenant() tenantId: string, @Args() args: WebhookDeliveriesArgs): Promise<Connection<WebhookDelivery>> {
    return this.webhooksService.deliveries(tenantId, args);
  }

  @RequirePermissions('webhooks:manage')
  @Mutation(() => WebhookSecretPayload)
  createWebhookEndpoint(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: CreateWebhookEndpointInput,
  ): Promise<WebhookSecretPayload> {
    return this.webhooksService.create(tenantId, principal.userId, input);
  }

  @RequirePermissions('webhooks:manage')
  @Mutation(() => WebhookEndpointPayload)
  async updateWebhookEndpoint(@CurrentTenant() tenantId: string, @Args('input') input: UpdateWebhookEndpointInput): Promise<WebhookEndpointPayload> {
    return { endpoint: await this.webhooksService.update(tenantId, input) };
  }

  @RequirePermissions('webhooks:manage')
  @Mutation(() => WebhookSecretPayload, { description: 'Replaces the signing secret; the old one stops at once' })
  rotateWebhookSecret(@CurrentTenant() tenantId: string, @Args('input') input: WebhookEndpointIdInput): Promise<WebhookSecretPayload> {
    return this.webhooksService.rotateSecret(tenantId, input.id);
  }

  @RequirePermissions('webhooks:manage')
  @Mutation(() => DeleteWebhookEndpointPayload)
  async deleteWebhookEndpoint(@CurrentTenant() tenantId: string, @Args('input') input: WebhookEndpointIdInput): Promise<DeleteWebhookEndpointPayload> {
    return { deletedEndpointId: await this.webhooksService.delete(tenantId, input.id) };
  }

  @RequirePermissions('webhooks:manage')
  @Mutation(() => RedeliverWebhookPayload)
  async redeliverWebhook(@CurrentTenant() tenantId: string, @Args('input') input: RedeliverWebhookInput): Promise<RedeliverWebhookPayload> {
    return { delivery: await this.webhooksService.redeliver(tenantId, input.deliveryId) };
  }
}
