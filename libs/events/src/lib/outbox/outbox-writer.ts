import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventInput, buildEnvelope, envelopeHeaders } from '../envelope';
import { EventContract, EventEnvelope } from '../event-contract';
import { OutboxMessage } from './outbox-message.entity';

/** The NOTIFY channel of one outbox table (several services may share a database, each with its schema). */
export function outboxNotifyChannel(dataSource: DataSource): string {
  return `outbox:${dataSource.getMetadata(OutboxMessage).tablePath}`;
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
    await manager.query('SELECT pg_notify($1, NULL)', [outboxNotifyChannel(manager.connection)]);
    return envelope;
  }
}
