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

export const WEBHOOK_EVENT_TYPES = WEBHOOK_EVENTS.map((contract) => contract.type);

export const ALL_EVENTS = '*';
