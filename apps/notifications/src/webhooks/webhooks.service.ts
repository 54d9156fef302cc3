import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { sealSecret } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { EventConsumer, EventEnvelope } from '@multipult/events';
import { BadUserInputError, Connection, ConflictError, KeysetOrder, NotFoundError, paginate } from '@multipult/graphql';
import type { NotificationsConfig } from '../config';
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookDeliveriesArgs } from './dto';
import { WebhookDelivery, WebhookDeliveryStatus } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { ALL_EVENTS, WEBHOOK_EVENTS, WEBHOOK_EVENT_TYPES } from './webhook-events';
import { resolvesToPublic } from '@multipult/network';
import { WEBHOOK_SECRET_CONTEXT, WebhookJobs } from './webhook-jobs';

export const WEBHOOKS_GROUP = 'notifications.webhooks';

export interface WebhookEvent {
  /** The receivers' deduplication key. */
  id: string;
  type: string;
  occurredAt: string;
  tenantId: string;
  payload: unknown;
}

/** An endpoint's deliveries newest first; a cursor belongs to one endpoint's log. */
const NEWEST_DELIVERIES = new KeysetOrder({
  connection: 'notifications.webhook.deliveries',
  columns: [
    { expression: 'd.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'd.id', type: 'uuid', direction: 'DESC' },
  ],
});

/** Events fanned out per consumer transaction (each still claimed in the inbox on its own). */
const WEBHOOKS_BATCH_SIZE = 100;

/** The tenant-scoped events among `events` (only those can have endpoints), as deliveries carry them. */
function webhookEventsOf(events: EventEnvelope[]): WebhookEvent[] {
  return events.flatMap(({ id, type, occurredAt, tenantId, payload }) => (tenantId ? [{ id, type, occurredAt, tenantId, payload }] : []));
}

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Tenants' webhook endpoints and the delivery log: every subscribed event becomes one delivery
 * row and its delivery job per endpoint in the consumer's transaction (so none is lost or
 * doubled); the job sends, retries and records it.
 */
@Injectable()
export class WebhooksService implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: NotificationsConfig,
    private readonly events: EventConsumer,
    private readonly jobs: WebhookJobs,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: WEBHOOKS_GROUP,
      contracts: WEBHOOK_EVENTS,
      // A burst of document or comment events fans out in one statement per batch.
      batchSize: WEBHOOKS_BATCH_SIZE,
      handler: (event, manager) => this.enqueue(manager, webhookEventsOf([event as EventEnvelope])),
      batchHandler: (events, manager) => this.enqueue(manager, webhookEventsOf(events as EventEnvelope[])),
    });
  }

  /**
   * One delivery (row and job) per enabled endpoint of the event's tenant subscribed to its type,
   * for every event in one statement, in the caller's transaction.
   */
  async enqueue(manager: EntityManager, events: WebhookEvent[]): Promise<void> {
    if (!events.length) return;
    const bodies = events.map((event) =>
      JSON.stringify({ id: event.id, type: event.type, occurredAt: event.occurredAt, tenantId: event.tenantId, data: event.payload }),
    );
    const created: { id: string; endpoint_id: string }[] = await manager.query(
      `INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_id, event_type, body, status)
       SELECT e.id, e.tenant_id, ev.event_id, ev.event_type, ev.body, 'pending'
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS ev(tenant_id, event_id, event_type, body, position)
       JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.enabled
         AND (e.event_types @> ARRAY[ev.event_type] OR e.event_types @> ARRAY['*'])
       ORDER BY ev.position, e.id
       ON CONFLICT DO NOTHING
       RETURNING id, endpoint_id`,
      [events.map((event) => event.tenantId), events.map((event) => event.id), events.map((event) => event.type), bodies],
    );
    await this.jobs.enqueue(manager, created.map((delivery) => ({ id: delivery.id, endpointId: delivery.endpoint_id })));
  }

  list(tenantId: string): Promise<WebhookEndpoint[]> {
    return this.dataSource.getRepository(WebhookEndpoint).find({ where: { tenantId }, order: { createdAt: 'ASC' } });
  }

  async create(tenantId: string, userId: string, input: CreateWebhookEndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = await this.checkedUrl(input.url);
    const eventTypes = this.checkedEventTypes(input.eventTypes);
    const secret = newSecret();
    return this.dataSource.transaction(async (manager) => {
      // A per-tenant advisory lock keeps two concurrent creations from passing the limit together.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhooks:${tenantId}`]);
      const existing = await manager.countBy(WebhookEndpoint, { tenantId });
      if (existing >= this.config.WEBHOOK_MAX_ENDPOINTS_PER_TENANT) {
        throw new ConflictError('errors.webhook_limit', { max: this.config.WEBHOOK_MAX_ENDPOINTS_PER_TENANT });
      }
      const endpoint = await manager.save(
        manager.create(WebhookEndpoint, {
          tenantId,
          url,
          eventTypes,
          description: input.description?.trim() ?? '',
          sealedSecret: sealSecret(secret, this.config.WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_CONTEXT),
          enabled: true,
          disabledReason: null,
          consecutiveFailures: 0,
          createdBy: userId,
        }),
      );
      return { endpoint, secret };
    });
  }

  async update(tenantId: string, input: UpdateWebhookEndpointInput): Promise<WebhookEndpoint> {
    const endpoint = await this.get(tenantId, input.id);
    if (input.url !== undefined) endpoint.url = await this.checkedUrl(input.url);
    if (input.eventTypes !== undefined) endpoint.eventTypes = this.checkedEventTypes(input.eventTypes);
    if (input.description !== undefined) endpoint.description = input.description.trim();
    if (input.enabled !== undefined) {
      if (input.enabled && !endpoint.enabled) {
        endpoint.consecutiveFailures = 0;
        endpoint.disabledReason = null;
      }
      endpoint.enabled = input.enabled;
    }
    return this.dataSource.getRepository(WebhookEndpoint).save(endpoint);
  }

  async rotateSecret(tenantId: string, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const endpoint = await this.get(tenantId, id);
    const secret = newSecret();
    endpoint.sealedSecret = sealSecret(secret, this.config.WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_CONTEXT);
    return { endpoint: await this.dataSource.getRepository(WebhookEndpoint).save(endpoint), secret };
  }

  async delete(tenantId: string, id: string): Promise<string> {
    const [, deleted]: [unknown, number] = await this.dataSource.query('DELETE FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
    if (!deleted) throw new NotFoundError('WebhookEndpoint');
    return id;
  }

  async deliveries(tenantId: string, args: WebhookDeliveriesArgs): Promise<Connection<WebhookDelivery>> {
    await this.get(tenantId, args.endpointId);
    const filter = this.dataSource.manager
      .createQueryBuilder(WebhookDelivery, 'd')
      .where('d.endpoint_id = :endpointId AND d.tenant_id = :tenantId', { endpointId: args.endpointId, tenantId });
    if (args.status) filter.andWhere('d.status = :status', { status: args.status });
    return paginate(filter, NEWEST_DELIVERIES, args, { scope: args.endpointId });
  }

  async redeliver(tenantId: string, deliveryId: string): Promise<WebhookDelivery> {
    const original = await this.dataSource.getRepository(WebhookDelivery).findOneBy({ id: deliveryId, tenantId });
    if (!original) throw new NotFoundError('WebhookDelivery');
    return this.dataSource.transaction(async (manager) => {
      const delivery = await manager.save(
        manager.create(WebhookDelivery, {
          endpointId: original.endpointId,
          tenantId,
          eventId: original.eventId,
          eventType: original.eventType,
          body: original.body,
          status: WebhookDeliveryStatus.PENDING,
          attempts: 0,
          nextAttemptAt: new Date(),
          redeliveryOf: original.id,
        }),
      );
      await this.jobs.enqueue(manager, [{ id: delivery.id, endpointId: delivery.endpointId }]);
      return delivery;
    });
  }

  private async get(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.dataSource.getRepository(WebhookEndpoint).findOneBy({ id, tenantId });
    if (!endpoint) throw new NotFoundError('WebhookEndpoint');
    return endpoint;
  }

  private async checkedUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw BadUserInputError.field('url', 'validation.webhookUrl');
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password) throw BadUserInputError.field('url', 'validation.webhookUrl');
    if (!this.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS && !(await resolvesToPublic(url.hostname))) {
      throw BadUserInputError.field('url', 'errors.webhook_private_target');
    }
    return url.toString();
  }

  private checkedEventTypes(types: string[]): string[] {
    const unknown = types.filter((type) => type !== ALL_EVENTS && !WEBHOOK_EVENT_TYPES.includes(type));
    if (unknown.length) throw BadUserInputError.field('eventTypes', 'errors.unknown_event_type', { types: unknown.join(', ') });
    return [...new Set(types)];
  }
}
