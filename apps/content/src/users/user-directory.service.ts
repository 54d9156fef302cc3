import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { EventConsumer, UserRegistered } from '@multipult/events';

/**
 * This service's copy of who is who (id, username), built from auth's user.registered events,
 * read from the beginning of the topic so a new deployment learns every existing user.
 */
@Injectable()
export class UserDirectoryService implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'content.user-directory',
      contracts: [UserRegistered],
      fromBeginning: true,
      handler: async (event, manager) => {
        if (!event.payload.username) return;
        await manager.query(
          `INSERT INTO user_directory (user_id, username, display_name) VALUES ($1, $2, $3)
           ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, display_name = excluded.display_name, updated_at = now()`,
          [event.payload.userId, event.payload.username, event.payload.displayName],
        );
      },
    });
  }

  /** Ids of the users with these usernames (unknown names are skipped). */
  async idsOf(usernames: string[], manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    if (!usernames.length) return [];
    const rows: { user_id: string }[] = await manager.query('SELECT user_id FROM user_directory WHERE username = ANY($1::text[])', [
      usernames,
    ]);
    return rows.map((row) => row.user_id);
  }
}
