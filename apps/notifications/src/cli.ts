import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, ConfigModule, baseEnv, databaseEnv, loadConfig, redisEnv, requireSocketTimeoutAboveStatementTimeout } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { eventEntities } from '@multipult/events';
import { RedisModule } from '@multipult/redis';
import { AnnouncementsService } from './announcements/announcements.service';
import { TemplateRenderer } from './catalog/template-renderer';
import { EmailJobs } from './email/email-jobs';
import { Notification } from './notifications/notification.entity';
import { NotificationsService } from './notifications/notifications.service';
import { LiveBus } from './realtime/live-bus';
import { Recipient } from './recipients/recipient.entity';

const USAGE = 'usage: node cli.js announce --title <title> --body <body> [--tenant <tenant id>]   (no --tenant: every user)';

/**
 * Operator commands against the notifications database (with the service's environment):
 *   node dist/apps/notifications/apps/notifications/src/cli.js announce --title … --body … [--tenant …]
 * Announcing to everyone is an operator's act: tenant admins announce to their tenant through GraphQL.
 */
async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'announce') throw new Error(USAGE);
  const { values } = parseArgs({ args: rest, options: { title: { type: 'string' }, body: { type: 'string' }, tenant: { type: 'string' } } });
  const input = z
    .object({ title: z.string().trim().min(1).max(200), body: z.string().trim().min(1).max(5000), tenant: z.uuid().optional() })
    .safeParse(values);
  if (!input.success) throw new Error(`${USAGE}\n${input.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n')}`);
  const config = loadConfig(z.object({ ...baseEnv, ...databaseEnv, ...redisEnv }).superRefine(requireSocketTimeoutAboveStatementTimeout));

  @Module({
    imports: [
      ConfigModule.forRoot({ ...config, DATABASE_MIGRATIONS_RUN: false }),
      DatabaseModule.forRoot({ service: 'notifications-cli', schema: 'notifications', entities: [Notification, Recipient, ...eventEntities], migrations: [] }),
      RedisModule.forRoot({ pubSub: true }),
    ],
    providers: [
      LiveBus,
      NotificationsService,
      TemplateRenderer,
      AnnouncementsService,
      // No job queue runs here: the service's recurring email.digests job queues the emails' jobs.
      { provide: EmailJobs, useValue: { enqueue: async () => undefined } },
    ],
  })
  class CliModule {}

  const context = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    const announcement = await context.get(AnnouncementsService).publish(null, input.data.tenant ?? null, input.data);
    process.stdout.write(`${JSON.stringify({ announced: true, id: announcement.id, recipients: announcement.recipientCount })}\n`);
  } finally {
    await context.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`notifications cli: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
