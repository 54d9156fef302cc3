import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AsyncQueue } from '@multipult/realtime';
import { PUB_SUB, PubSub } from '@multipult/redis';
import { Export, FINISHED_STATUSES } from './export.entity';

const channelOf = (exportId: string) => `export:progress:${exportId}`;

/**
 * Live progress: a change of an export goes out on its Redis channel (heard by every replica),
 * and each subscriber reads the row back, so what it sees is always what is committed (after a
 * gap on the bus too). The stream starts with the current state and ends after the final one.
 */
@Injectable()
export class ExportFeed implements OnApplicationShutdown {
  private readonly logger = new Logger(ExportFeed.name);

  constructor(
    @Inject(PUB_SUB) private readonly pubSub: PubSub,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** After the change committed; a lost message loses one live update, never the state. */
  async changed(exportId: string): Promise<void> {
    await this.pubSub.publish(channelOf(exportId), '1').catch((error: Error) => this.logger.warn(`progress of ${exportId} not published: ${error.message}`));
  }

  async follow(current: Export): Promise<AsyncQueue<Export>> {
    let delivery = Promise.resolve();
    const queue: AsyncQueue<Export> = new AsyncQueue(() => void unsubscribe.then((stop) => stop()));
    const deliver = () => {
      delivery = delivery.then(async () => {
        if (queue.done) return;
        try {
          const row = await this.dataSource.getRepository(Export).findOneBy({ id: current.id });
          if (!row) return queue.end();
          queue.push(row);
          if (FINISHED_STATUSES.includes(row.status)) queue.end();
        } catch (error) {
          this.logger.warn(`progress of ${current.id}: ${(error as Error).message}`);
        }
      });
    };
    const unsubscribe = this.pubSub.subscribe(channelOf(current.id), deliver, { onGap: deliver });
    await unsubscribe;
    // Read after subscribing, so no change between the two is missed.
    deliver();
    return queue;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pubSub.close();
  }
}
