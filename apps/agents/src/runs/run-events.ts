import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, MoreThan } from 'typeorm';
import { AsyncQueue } from '@multipult/realtime';
import { PUB_SUB, PubSub } from '@multipult/redis';
import { FINAL_EVENT_TYPES, RunEvent } from './run-event.entity';

const channelOf = (runId: string) => `agents:run-events:${runId}`;

/** Events one read of the log returns; a stream catching up reads page after page. */
const PAGE = 500;

export interface NewRunEvent {
  type: string;
  taskId?: string | null;
  payload?: Record<string, unknown>;
}

/**
 * A run's event log. Appending takes the next sequence number from the run's row, which holds a
 * row lock until commit: events of one run commit in sequence order, so a reader that has seen
 * seq n never later finds an event below n (what lets a stream resume from last_event_id without
 * missing or repeating). Followers are woken through Redis and read the log itself.
 */
@Injectable()
export class RunEvents implements OnApplicationShutdown {
  private readonly logger = new Logger(RunEvents.name);

  constructor(
    @Inject(PUB_SUB) private readonly pubSub: PubSub,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Appends inside the caller's transaction; call `published` once it committed. */
  async append(manager: EntityManager, runId: string, events: NewRunEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const [rows] = await manager.query(`UPDATE agent_runs SET last_seq = last_seq + $2 WHERE id = $1 RETURNING last_seq`, [runId, events.length]);
    const last = Number((rows as { last_seq: string }[])[0].last_seq);
    const first = last - events.length + 1;
    await manager.query(
      `INSERT INTO agent_run_events (run_id, seq, type, task_id, payload)
       SELECT $1, $3::bigint + ordinality - 1, event ->> 'type', (event ->> 'taskId')::uuid, event -> 'payload'
         FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS events(event, ordinality)`,
      [runId, JSON.stringify(events.map((event) => ({ type: event.type, taskId: event.taskId ?? null, payload: event.payload ?? {} }))), first],
    );
    return last;
  }

  /** Appends in a transaction of its own and wakes followers. */
  async record(runId: string, events: NewRunEvent[]): Promise<void> {
    await this.dataSource.transaction((manager) => this.append(manager, runId, events));
    await this.published(runId);
  }

  /** Wakes the run's followers on every replica; a lost wake-up delays delivery until the next, never loses an event. */
  async published(runId: string): Promise<void> {
    await this.pubSub.publish(channelOf(runId), '1').catch((error: Error) => this.logger.warn(`events of run ${runId} not announced: ${error.message}`));
  }

  read(runId: string, afterSeq: number, limit = PAGE): Promise<RunEvent[]> {
    return this.dataSource.getRepository(RunEvent).find({ where: { runId, seq: MoreThan(afterSeq) }, order: { seq: 'ASC' }, take: limit });
  }

  /**
   * The run's events after `afterSeq`, then each new one as it commits, ending after the run's
   * final event. Subscribes before the first read, so nothing committed in between is missed; a
   * gap on the bus is read the same way.
   */
  async follow(runId: string, afterSeq: number): Promise<AsyncQueue<RunEvent>> {
    let cursor = afterSeq;
    let reading = Promise.resolve();
    let again = false;
    const queue: AsyncQueue<RunEvent> = new AsyncQueue(() => void unsubscribe.then((stop) => stop()));
    const catchUp = async () => {
      for (;;) {
        if (queue.done) return;
        const events = await this.read(runId, cursor);
        for (const event of events) {
          cursor = event.seq;
          queue.push(event);
          if (FINAL_EVENT_TYPES.has(event.type)) return queue.end();
        }
        if (events.length < PAGE) return;
      }
    };
    const wake = () => {
      if (again) return;
      again = true;
      reading = reading.then(async () => {
        again = false;
        await catchUp().catch((error: Error) => this.logger.warn(`events of run ${runId}: ${error.message}`));
      });
    };
    const unsubscribe = this.pubSub.subscribe(channelOf(runId), wake, { onGap: wake });
    await unsubscribe;
    wake();
    return queue;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pubSub.close();
  }
}
