import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { reachableDatabaseUrl } from '../database';
import { Output } from '../output';
import { runServiceCli } from '../service-cli';

const text = (max: number) => (value: string) => {
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > max) throw new InvalidArgumentError(`must be 1 to ${max} characters`);
  return trimmed;
};

const tenantId = (value: string) => {
  if (!z.uuid().safeParse(value).success) throw new InvalidArgumentError('must be a tenant id (UUID)');
  return value;
};

export function registerAnnounceCommand(program: Command, output: Output): void {
  program
    .command('announce')
    .description('Send an announcement to the inbox of every user, or of every member of one tenant')
    .requiredOption('--title <title>', 'the announcement’s title (up to 200 characters)', text(200))
    .requiredOption('--body <body>', 'its text (up to 5000 characters)', text(5000))
    .option('--tenant <tenant id>', 'only this tenant’s members (default: every user)', tenantId)
    .action(async (options: { title: string; body: string; tenant?: string }) => {
      await reachableDatabaseUrl();
      const args = ['announce', '--title', options.title, '--body', options.body, ...(options.tenant ? ['--tenant', options.tenant] : [])];
      output(await runServiceCli('notifications', args));
    });
}
