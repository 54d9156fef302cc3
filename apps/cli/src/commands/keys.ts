import { Command } from 'commander';
import { reachableDatabaseUrl } from '../database';
import { Output } from '../output';
import { runServiceCli } from '../service-cli';

export function registerKeyCommands(program: Command, output: Output): void {
  program
    .command('keys')
    .description('Manage the token signing keys')
    .command('rotate')
    .description(
      'Make a new signing key the one that signs access tokens; the old key stays in the JWKS so issued tokens keep verifying',
    )
    .action(async () => {
      await reachableDatabaseUrl();
      output(await runServiceCli('auth', ['rotate-signing-key']));
    });
}
