import {
  CommentCreated,
  CommentReplied,
  DocumentCreated,
  DocumentDeleted,
  DocumentPublished,
  DocumentTranslationDeleted,
  DocumentTranslationSaved,
  DocumentUpdated,
  EventContract,
  TenantMemberAdded,
} from '@multipult/events';

/** Events a tenant's webhooks can subscribe to: the tenant-scoped ones, delivered with their payload as `data`. */
export const WEBHOOK_EVENTS: readonly EventContract<unknown>[] = [
  DocumentCreated,
  DocumentUpdated,
  DocumentPublished,
  DocumentDeleted,
  DocumentTranslationSaved,
  DocumentTranslationDeleted,
  CommentCreated,
  CommentReplied,
  TenantMemberAdded,
];

/** Produced here, not on Kafka: a tenant-scoped notification for a user who keeps the WEBHOOK channel on. */
export const NOTIFICATION_CREATED = 'notification.created';

export const WEBHOOK_EVENT_TYPES = [...WEBHOOK_EVENTS.map((contract) => contract.type), NOTIFICATION_CREATED];

export const ALL_EVENTS = '*';
