import { Command, Option } from 'commander';
import { BackupProgress, backupSchemas, restoreSchemas, verifyBackup } from '@multipult/backup';
import { SERVICE_REGISTRY } from '@multipult/registry';
import { reachableDatabaseUrl } from '../database';
import { CliError } from '../errors';
import { Output } from '../output';
import { ProgressBar, withProgress } from '../progress';

const SERVICE_NAMES = SERVICE_REGISTRY.services.map((service) => service.name);

/** The PostgreSQL schemas of the chosen services (every service's when none is chosen). */
function schemasOf(services: string[] | undefined): string[] {
  const chosen = services?.length ? services : SERVICE_NAMES;
  return SERVICE_REGISTRY.services.filter((service) => chosen.includes(service.name)).map((service) => service.schema);
}

const serviceOption = () =>
  new Option('--service <name...>', 'only these services’ schemas (default: every service)').choices(SERVICE_NAMES);

const showOn = (bar: ProgressBar) => (progress: BackupProgress) => bar.update(progress.done, progress.total, `${progress.step} ${progress.schema}`);

/** Backups of the services' schemas through @multipult/backup. */
export function registerBackupCommands(program: Command, output: Output): void {
  const backup = program
    .command('backup')
    .description('Back up the services’ PostgreSQL schemas (DATABASE_URL) into a directory; `backup verify` checks one')
    .option('--out <dir>', 'the directory to write the backup to (required)')
    .addOption(serviceOption())
    .action(async (options: { out?: string; service?: string[] }) => {
      // Not a required option: commander would then demand it of `backup verify` too.
      if (!options.out) throw new CliError('backup needs --out <dir>');
      const DATABASE_URL = await reachableDatabaseUrl();
      const directory = options.out;
      const manifest = await withProgress('backup', (bar) =>
        backupSchemas({ databaseUrl: DATABASE_URL, schemas: schemasOf(options.service), directory, onProgress: showOn(bar) }),
      );
      output({ backedUp: true, directory, ...manifest });
    });
  backup
    .command('verify')
    .description('Check that a backup is complete and restorable')
    .requiredOption('--from <dir>', 'the backup directory')
    .action(async (options: { from: string }) => {
      const DATABASE_URL = await reachableDatabaseUrl();
      const { ok, mismatches } = await withProgress('verify', (bar) => verifyBackup({ databaseUrl: DATABASE_URL, directory: options.from, onProgress: showOn(bar) }));
      if (!ok) {
        const differences = mismatches.map(({ schema, table, expected, actual }) => `${schema}.${table} has ${actual} rows restored, ${expected} backed up`);
        throw new CliError(`the backup in ${options.from} does not restore as backed up: ${differences.join('; ')}`);
      }
      output({ verified: true, directory: options.from });
    });

  program
    .command('restore')
    .description('Restore the services’ schemas from a backup directory (replacing what is there)')
    .requiredOption('--from <dir>', 'the backup directory')
    .addOption(serviceOption())
    .action(async (options: { from: string; service?: string[] }) => {
      const DATABASE_URL = await reachableDatabaseUrl();
      const schemas = options.service?.length ? schemasOf(options.service) : undefined;
      const restored = await withProgress('restore', (bar) => restoreSchemas({ databaseUrl: DATABASE_URL, directory: options.from, schemas, onProgress: showOn(bar) }));
      output({ restored: true, directory: options.from, ...restored });
    });
}
