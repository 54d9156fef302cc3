export * from './lib/event-contract';
export * from './lib/envelope';
export * from './lib/backoff';
export * from './lib/contracts/auth.events';
export * from './lib/contracts/content.events';
export * from './lib/outbox/outbox-message.entity';
export * from './lib/outbox/create-event-tables.migration';
export * from './lib/outbox/add-event-retention-indexes.migration';
export * from './lib/outbox/outbox-writer';
export * from './lib/outbox/outbox-relay';
export * from './lib/consumer/inbox-record.entity';
export * from './lib/consumer/event-consumer';
export * from './lib/consumer/handling-attempt';
export * from './lib/transport/event-transport';
export * from './lib/transport/kafka-transport';
export * from './lib/transport/in-process-transport';
export * from './lib/transport/hub-transport';
export * from './lib/events.module';

import { InboxRecord } from './lib/consumer/inbox-record.entity';
import { AddEventRetentionIndexes1764700000000 } from './lib/outbox/add-event-retention-indexes.migration';
import { CreateEventTables1732400000000 } from './lib/outbox/create-event-tables.migration';
import { OutboxMessage } from './lib/outbox/outbox-message.entity';

/** Register these in the service's DataSource: `entities: [...eventEntities]`, `migrations: [...eventMigrations]`. */
export const eventEntities = [OutboxMessage, InboxRecord];
export const eventMigrations = [CreateEventTables1732400000000, AddEventRetentionIndexes1764700000000];
export * from './lib/contracts/privacy.events';
export * from './lib/contracts/export.events';
export * from './lib/contracts/agents.events';
export * from './lib/privacy/privacy-participant';
