import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventInput, buildEnvelope, envelopeHeaders } from '../envelope';
import { EventContract, EventEnvelope } from '../event-contract';
import { OutboxMessage } from './outbox-message.entity';

/** PostgreSQL refuses channel names of NAMEDATALEN (64) bytes or more. */
const MAX_CHANNEL_LENGTH = 63;

/** The NOTIFY channel of one outbox table (several services may share a database, each with its schema). */
export function outboxNotifyChannel(dataSource: DataSource): string {
  const { tablePath } = dataSource.getMetadata(OutboxMessage);
  const channel = `outbox:${tablePath}`;
  if (channel.length <= MAX_CHANNEL_LENGTH) return channel;
  return `outbox:${createHash('sha256').update(tablePath).digest('hex').slice(0, 32)}`;
}

@Injectable()
export class OutboxWriter {
  /**
   * Records an event in the caller's transaction: it is published if and only if the transaction
   * commits. Throws InvalidEventPayloadError when the payload breaks the contract.
   */
  async enqueue<P, T extends string>(
    manager: EntityManager,
    contract: EventContract<P, T>,
    input: EventInput<P>,
  ): Promise<EventEnvelope<P, T>> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(
        `OutboxWriter.enqueue(${contract.type}) needs the EntityManager of an open transaction, ` +
          'e.g. dataSource.transaction((manager) => ...), so the event commits with the change it describes',
      );
    }
    const envelope = buildEnvelope(contract, input);
    await manager.insert(OutboxMessage, {
      id: envelope.id,
      topic: contract.topic,
      messageKey: envelope.aggregateId,
      eventType: envelope.type,
      // Stored as JSON, where the payload's static type no longer matters.
      envelope: envelope as EventEnvelope<object>,
      headers: envelopeHeaders(envelope),
    });
    // Delivered on commit only, so the relay wakes exactly when there is something to publish.
    await manager.query("SELECT pg_notify($1, '')", [outboxNotifyChannel(manager.connection)]);
    return envelope;
  }
}
