import { Argument, Command, Option } from 'commander';
import { reachableDatabaseUrl } from '../database';
import { PLATFORM_ROLES } from '../options';
import { Output } from '../output';
import { runServiceCli } from '../service-cli';

/** `user create` and `role grant`: the auth service's own operator entry point does the work. */
export function registerAccountCommands(program: Command, output: Output): void {
  const user = program.command('user').description('Manage user accounts');
  user
    .command('create')
    .description(
      'Create an account as sign-up does (same rules, hashing, user.registered event, audit entry), with its address counted as confirmed',
    )
    .requiredOption('--email <email>', 'the address the user signs in with')
    .requiredOption('--password <password>', 'at least 10 characters of two kinds (letters, digits, symbols)')
    .requiredOption('--display-name <name>', 'the name others see')
    .option('--username <handle>', '3 to 30 lowercase letters, digits or _, for @mentions (default: from the email)')
    .addOption(new Option('--platform-role <role...>', 'platform roles to grant as well').choices(PLATFORM_ROLES))
    .action(async (options: { email: string; password: string; displayName: string; username?: string; platformRole?: string[] }) => {
      await reachableDatabaseUrl();
      const args = ['create-user', '--email', options.email, '--password', options.password, '--display-name', options.displayName];
      if (options.username) args.push('--username', options.username);
      for (const role of options.platformRole ?? []) args.push('--platform-role', role);
      output(await runServiceCli('auth', args));
    });

  const role = program.command('role').description('Manage platform roles (the operators’ roles above tenants)');
  role
    .command('grant')
    .description('Give a platform role to the account with this email (audited)')
    .argument('<email>', 'the account’s email')
    .addArgument(new Argument('<role>', 'the platform role').choices(PLATFORM_ROLES))
    .action(async (email: string, roleName: string) => {
      await reachableDatabaseUrl();
      output(await runServiceCli('auth', ['grant-platform-role', email, roleName]));
    });
}
