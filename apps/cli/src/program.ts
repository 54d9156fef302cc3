import { Command } from 'commander';
import { registerAccountCommands } from './commands/accounts';
import { registerAnnounceCommand } from './commands/announce';
import { registerBackupCommands } from './commands/backup';
import { registerDlqCommands } from './commands/dlq';
import { registerKeyCommands } from './commands/keys';
import { registerSearchCommands } from './commands/search';
import { registerSeedCommands } from './commands/seed';
import { Output, stdoutJsonLines } from './output';

/** The `multipult` operator CLI; results are JSON lines on `output`, progress bars on stderr. */
export function createProgram(output: Output = stdoutJsonLines): Command {
  const program = new Command('multipult')
    .description('Operator commands for a Multipult platform. Configuration from the environment: DATABASE_URL, GATEWAY_URL, KAFKA_BROKERS, …')
    .showSuggestionAfterError()
    // One line per error, suggestions included.
    .configureOutput({ outputError: (message, write) => write(`multipult: ${message.replace(/^error: /, '').replace(/\n(?=.)/g, ' ')}`) });
  registerAccountCommands(program, output);
  registerSeedCommands(program, output);
  registerBackupCommands(program, output);
  registerSearchCommands(program, output);
  registerDlqCommands(program, output);
  registerKeyCommands(program, output);
  registerAnnounceCommand(program, output);
  return program;
}
