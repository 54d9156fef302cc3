import { CommanderError } from 'commander';
import { createProgram } from './program';

/**
 * `npm run multipult -- <command>` (node dist/apps/cli/apps/cli/src/main.js). Every failure is one
 * line on stderr and exit code 1: commander reports usage mistakes itself, everything else ends here.
 */
createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (!(error instanceof CommanderError)) process.stderr.write(`multipult: ${(error as Error).message}\n`);
    process.exit(1);
  });
