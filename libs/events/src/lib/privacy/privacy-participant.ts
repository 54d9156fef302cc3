import { Injectable, Logger } from '@nestjs/common';
import { gzipSync } from 'node:zlib';
import { EntityManager } from 'typeorm';
import { EventConsumer, HandlerTransaction } from '../consumer/event-consumer';
import { EnvelopeOf } from '../event-contract';
import { UserDataExportPart, UserDataExportRequested, UserErasureCompleted, UserErasureRequested } from '../contracts/privacy.events';
import { OutboxMessage } from '../outbox/outbox-message.entity';
import { OutboxWriter } from '../outbox/outbox-writer';
import { qualifiedTableName } from '../table-path';

/**
 * Stands in for an erased user wherever a row must keep an owner or author (a tenant's published
 * documents, comment threads): the auth service resolves it to a "Deleted user".
 */
export const ERASED_USER_ID = '00000000-0000-0000-0000-000000000000';

/** The sagas' own events (ids only), which an erasure leaves in the outbox. */
const SAGA_REQUESTS = [UserErasureRequested.type, UserErasureCompleted.type, UserDataExportRequested.type];

/** Base64 characters per export chunk: well under Kafka's default 1 MB message limit. */
export const EXPORT_CHUNK_CHARS = 256 * 1024;

/** What a service holding user data does in the GDPR sagas. */
export interface UserDataHandlers {
  /** The service's name, as listed in the auth service's PRIVACY_PARTICIPANTS. */
  service: string;
  /**
   * Deletes or anonymizes everything about the user, with `manager` only (caches and the like in
   * `transaction.afterCommit`); answers rows touched per kind. Must be idempotent.
   */
  erase(manager: EntityManager, userId: string, transaction: HandlerTransaction): Promise<Record<string, number>>;
  /** Everything the service holds about the user, JSON-serializable. */
  collect(manager: EntityManager, userId: string): Promise<Record<string, unknown>>;
}

/** The participant's JSON, gzipped and base64-encoded, in chunks of at most `size` characters. */
export function exportChunks(data: unknown, size = EXPORT_CHUNK_CHARS): string[] {
  const encoded = gzipSync(Buffer.from(JSON.stringify(data), 'utf8')).toString('base64');
  const chunks: string[] = [];
  for (let offset = 0; offset < encoded.length; offset += size) chunks.push(encoded.slice(offset, offset + size));
  return chunks.length ? chunks : [''];
}

/**
 * Makes a service a participant of the GDPR sagas: on an erasure request it erases the user's
 * data (and its sent outbox rows about the user) and confirms in the same transaction (so a
 * confirmation means it is done); on an export
 * request it sends its part. Redelivered requests are skipped by the inbox; a repeated request
 * (new event, same saga) erases nothing more and confirms again, which auth ignores.
 */
@Injectable()
export class PrivacyParticipant {
  private readonly logger = new Logger(PrivacyParticipant.name);

  constructor(
    private readonly consumer: EventConsumer,
    private readonly outbox: OutboxWriter,
  ) {}

  async start(handlers: UserDataHandlers): Promise<void> {
    await this.consumer.consume({
      groupId: `${handlers.service}.privacy`,
      contracts: [UserErasureRequested, UserDataExportRequested],
      handler: async (envelope, manager, transaction) => {
        if (!envelope.payload.participants.includes(handlers.service)) return;
        if (envelope.type === UserErasureRequested.type) {
          await this.erase(handlers, envelope as EnvelopeOf<typeof UserErasureRequested>, manager, transaction);
        } else {
          await this.export(handlers, envelope as EnvelopeOf<typeof UserDataExportRequested>, manager);
        }
      },
    });
  }

  private async erase(
    handlers: UserDataHandlers,
    envelope: EnvelopeOf<typeof UserErasureRequested>,
    manager: EntityManager,
    transaction: HandlerTransaction,
  ): Promise<void> {
    const { erasureId, userId } = envelope.payload;
    const summary = await handlers.erase(manager, userId, transaction);
    // Sent outbox rows are kept only for retention; those about the user (their export parts, their
    // actions) go with the rest of their data.
    const [, outboxRows]: [unknown, number] = await manager.query(
      `DELETE FROM ${qualifiedTableName(manager.connection, OutboxMessage)} WHERE published_at IS NOT NULL AND NOT (event_type = ANY($2::text[]))
         AND (envelope->'payload'->>'userId' = $1 OR envelope->>'actorId' = $1)`,
      [userId, SAGA_REQUESTS],
    );
    await this.outbox.enqueue(manager, UserErasureCompleted, {
      aggregateId: erasureId,
      actorId: null,
      payload: { erasureId, userId, service: handlers.service, summary },
    });
    this.logger.log({ erasureId, userId, summary, outboxRows }, 'user data erased');
  }

  private async export(handlers: UserDataHandlers, envelope: EnvelopeOf<typeof UserDataExportRequested>, manager: EntityManager): Promise<void> {
    const { exportId, userId } = envelope.payload;
    const chunks = exportChunks(await handlers.collect(manager, userId));
    for (const [chunk, data] of chunks.entries()) {
      await this.outbox.enqueue(manager, UserDataExportPart, {
        aggregateId: exportId,
        actorId: null,
        payload: { exportId, userId, service: handlers.service, chunk, chunkCount: chunks.length, data },
      });
    }
    this.logger.log({ exportId, userId, chunks: chunks.length }, 'user data export part sent');
  }
}
