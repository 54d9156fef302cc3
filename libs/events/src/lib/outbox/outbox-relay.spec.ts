import { randomUUID } from 'node:crypto';
import { DataSource, Logger } from 'typeorm';
import { OutgoingMessage } from '../transport/event-transport';
import { InProcessTransport } from '../transport/in-process-transport';
import { EventsTestDatabase, openEventsDatabase, uniqueWidgetContract, waitFor, widgetPayload } from '../../testing/support';
import { OutboxRelay } from './outbox-relay';
import { OutboxWriter } from './outbox-writer';

/** A broker whose answers the test holds back, and that notes what it was given, when. */
class HeldTransport extends InProcessTransport {
  readonly published: { key: string | null; at: number }[] = [];
  publishing = 0;
  private held: Promise<void> = Promise.resolve();
  private release = () => undefined as void;

  hold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }

  answer(): void {
    this.release();
  }

  override async publish(messages: OutgoingMessage[]): Promise<void> {
    this.publishing += 1;
    await this.held;
    await super.publish(messages);
    for (const message of messages) this.published.push({ key: message.key, at: Date.now() });
  }
}

// Two replicas of one service: each its own DataSource (its writers wake only its own relay, as in
// separate processes) and relay, over one real PostgreSQL outbox. Polling once a minute, so only
// wake-ups and the relay's own retries move anything within a test.
describe('the outbox relays of two replicas', () => {
  let db: EventsTestDatabase;
  let second: DataSource;
  const relays: OutboxRelay[] = [];
  const writer = new OutboxWriter();

  /** The second replica's claims, counted as they start (a relay claims one batch at a time). */
  let secondClaims = 0;

  beforeAll(async () => {
    db = await openEventsDatabase('events_two_relays');
    const countClaims: Logger = {
      logQuery: (query) => void (query.includes('FOR UPDATE SKIP LOCKED') && (secondClaims += 1)),
      logQueryError: () => undefined,
      logQuerySlow: () => undefined,
      logSchemaBuild: () => undefined,
      logMigration: () => undefined,
      log: () => undefined,
    };
    second = await new DataSource({ ...db.dataSource.options, logging: true, logger: countClaims }).initialize();
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await second?.destroy();
    await db?.close();
  });

  it("publishes an event as soon as the other replica has published the same key's earlier one, not at the next poll", async () => {
    const Widget = uniqueWidgetContract();
    const aggregateId = randomUUID();
    const [brokerOfFirst, brokerOfSecond] = [new HeldTransport(), new HeldTransport()];
    await Promise.all([brokerOfFirst.connect(), brokerOfSecond.connect()]);
    const [firstRelay, secondRelay] = [
      new OutboxRelay(db.dataSource, brokerOfFirst, { pollIntervalMs: 60_000, batchSize: 100 }),
      new OutboxRelay(second, brokerOfSecond, { pollIntervalMs: 60_000, batchSize: 100 }),
    ];
    relays.push(firstRelay, secondRelay);

    brokerOfFirst.hold();
    await firstRelay.start();
    await db.dataSource.transaction((manager) => writer.enqueue(manager, Widget, { aggregateId, payload: widgetPayload('first') }));
    await waitFor("the first replica's batch in flight", () => brokerOfFirst.publishing === 1);
    // Started now, so that its first look (a relay claims at start) cannot take the first event.
    await secondRelay.start();
    await second.transaction((manager) => writer.enqueue(manager, Widget, { aggregateId, payload: widgetPayload('second') }));
    // Two claims begun after that commit: the second begins only once the first, which found the
    // event waiting behind the first replica's batch, is done.
    const claimsAfterCommit = secondClaims;
    await waitFor('the second replica to look at its event twice', () => secondClaims >= claimsAfterCommit + 2, 10_000);
    // Order per key: the second event waits while the first is in flight.
    expect(brokerOfSecond.published).toEqual([]);

    const answeredAt = Date.now();
    brokerOfFirst.answer();
    await waitFor("the second replica's event", () => brokerOfSecond.published.length === 1, 10_000);
    expect(brokerOfFirst.published.map(({ key }) => key)).toEqual([aggregateId]);
    expect(brokerOfSecond.published[0].at).toBeGreaterThanOrEqual(brokerOfFirst.published[0].at);
    expect(brokerOfSecond.published[0].at - answeredAt).toBeLessThan(1_000);
  });
});
