import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { EventInput, buildEnvelope, envelopeHeaders } from '../envelope';
import { EventContract, EventEnvelope } from '../event-contract';
import { qualifiedTableName } from '../table-path';
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

/**
 * Relays running in this process, by the DataSource they read. A transaction of that DataSource
 * that wrote outbox rows wakes them after its commit directly, instead of through NOTIFY: a
 * NOTIFY serializes every notifying commit on one database-wide lock (held through the WAL
 * flush), which halved the commit rate of concurrent writers.
 */
const localRelays = new WeakMap<DataSource, Set<() => void>>();
/** Open transactions that enqueued events and will wake the local relays when they commit. */
const wakeOnCommit = new WeakSet<QueryRunner>();

class OutboxCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit({ queryRunner, dataSource }: TransactionCommitEvent): void {
    // A savepoint's release is reported too: only the outermost commit makes the rows visible.
    if (queryRunner.isTransactionActive || !wakeOnCommit.has(queryRunner)) return;
    wakeOnCommit.delete(queryRunner);
    localRelays.get(dataSource)?.forEach((wake) => wake());
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    if (!queryRunner.isTransactionActive) wakeOnCommit.delete(queryRunner);
  }
}

/** Lets commits of `dataSource` wake a relay of this process; returns the unregistration. */
export function registerLocalRelay(dataSource: DataSource, wake: () => void): () => void {
  let wakes = localRelays.get(dataSource);
  if (!wakes) {
    wakes = new Set();
    localRelays.set(dataSource, wakes);
    dataSource.subscribers.push(new OutboxCommitSubscriber());
  }
  const registered = wakes;
  registered.add(wake);
  return () => registered.delete(wake);
}

/** One event for OutboxWriter.enqueueAll, its payload checked against its contract where it is built. */
export interface OutboxEvent {
  contract: EventContract<unknown>;
  input: EventInput<unknown>;
}

export function outboxEvent<P, T extends string>(contract: EventContract<P, T>, input: EventInput<P>): OutboxEvent {
  return { contract: contract as EventContract<unknown>, input: input as EventInput<unknown> };
}

const OUTBOX_COLUMNS = 6;

/** An event's outbox row: id, topic, message_key, event_type, envelope, headers. */
function outboxColumns(envelope: EventEnvelope, { contract }: OutboxEvent): unknown[] {
  return [envelope.id, contract.topic, envelope.aggregateId, envelope.type, JSON.stringify(envelope), JSON.stringify(envelopeHeaders(envelope))];
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
    const [envelope] = await this.enqueueAll(manager, [outboxEvent(contract, input)]);
    return envelope as EventEnvelope<P, T>;
  }

  /**
   * Records several events in the caller's transaction in one statement, in the order given (the
   * relay publishes them in that order); as enqueue otherwise.
   */
  async enqueueAll(manager: EntityManager, events: readonly OutboxEvent[]): Promise<EventEnvelope[]> {
    const queryRunner = manager.queryRunner;
    if (!queryRunner?.isTransactionActive) {
      throw new Error(
        `OutboxWriter.enqueue(${events.map(({ contract }) => contract.type).join(', ')}) needs the EntityManager of an open transaction, ` +
          'e.g. dataSource.transaction((manager) => ...), so the event commits with the change it describes',
      );
    }
    const envelopes = events.map(({ contract, input }) => buildEnvelope(contract, input) as EventEnvelope);
    if (!envelopes.length) return envelopes;
    const dataSource = manager.connection;
    const values = envelopes.flatMap((envelope, index) => outboxColumns(envelope, events[index]));
    // Rows of one VALUES list are inserted (and numbered by sequence_number) in the order listed.
    const rows = envelopes.map((_, row) => `(${Array.from({ length: OUTBOX_COLUMNS }, (_, column) => `$${row * OUTBOX_COLUMNS + column + 1}`).join(', ')})`);
    const insert = `INSERT INTO ${qualifiedTableName(dataSource, OutboxMessage)} (id, topic, message_key, event_type, envelope, headers)
      VALUES ${rows.join(', ')}`;
    if (localRelays.get(dataSource)?.size) {
      wakeOnCommit.add(queryRunner);
      await manager.query(insert, values);
    } else {
      // No relay in this process: wake the others on commit (NOTIFY is delivered on commit only).
      await manager.query(`WITH inserted AS (${insert} RETURNING 1) SELECT pg_notify($${values.length + 1}, '') FROM inserted LIMIT 1`, [
        ...values,
        outboxNotifyChannel(dataSource),
      ]);
    }
    return envelopes;
  }

  /**
   * Makes a change and records its events in one statement, which is its own transaction: one
   * round trip instead of BEGIN, the change, the events and COMMIT. `statement` is one
   * data-modifying query with RETURNING (numbering its parameters from $1); its rows are returned.
   * The events are recorded only when it returned a row, so a conditional write that wrote nothing
   * records none, and a failing one records none either. Use enqueueAll in a transaction when the
   * change takes more than one statement.
   */
  async writeWithEvents<Row>(
    dataSource: DataSource,
    statement: { sql: string; parameters: readonly unknown[] },
    events: readonly OutboxEvent[],
  ): Promise<{ rows: Row[]; envelopes: EventEnvelope[] }> {
    const envelopes = events.map(({ contract, input }) => buildEnvelope(contract, input) as EventEnvelope);
    if (!envelopes.length) {
      // In a WITH its rows come back whatever the statement is: TypeORM answers a bare UPDATE or DELETE with [rows, count].
      const written: Row[] = await dataSource.query(`WITH written AS (${statement.sql}) SELECT * FROM written`, [...statement.parameters]);
      return { rows: written, envelopes };
    }
    const offset = statement.parameters.length;
    const values = envelopes.flatMap((envelope, index) => [...outboxColumns(envelope, events[index]), index]);
    const casts = ['uuid', 'text', 'text', 'text', 'jsonb', 'jsonb', 'int'];
    const rows = envelopes.map(
      (_, row) => `(${casts.map((cast, column) => `$${offset + row * casts.length + column + 1}::${cast}`).join(', ')})`,
    );
    // A data-modifying WITH runs whether or not it is read; ORDER BY numbers the rows in list order.
    const rowsWritten: Row[] = await dataSource.query(
      `WITH written AS (${statement.sql}),
       recorded AS (
         INSERT INTO ${qualifiedTableName(dataSource, OutboxMessage)} (id, topic, message_key, event_type, envelope, headers)
         SELECT id, topic, message_key, event_type, envelope, headers
         FROM (VALUES ${rows.join(', ')}) AS event (id, topic, message_key, event_type, envelope, headers, position)
         WHERE EXISTS (SELECT 1 FROM written)
         ORDER BY position
       )
       SELECT * FROM written`,
      [...statement.parameters, ...values],
    );
    if (!rowsWritten.length) return { rows: rowsWritten, envelopes: [] };
    const wakes = localRelays.get(dataSource);
    if (wakes?.size) wakes.forEach((wake) => wake());
    // No relay in this process: wake the others. The change has committed, so a failed wake-up
    // must not fail the caller: the relays' polling finds the rows anyway.
    else await dataSource.query('SELECT pg_notify($1, $2)', [outboxNotifyChannel(dataSource), '']).catch(() => undefined);
    return { rows: rowsWritten, envelopes };
  }
}
