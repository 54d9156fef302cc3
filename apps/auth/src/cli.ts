import 'reflect-metadata';
import { INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConfigModule, loadConfig } from '@multipult/config';
import { DatabaseModule, uniqueViolationColumns } from '@multipult/database';
import { OutboxWriter, eventEntities } from '@multipult/events';
import { AppError, translate, validationProblems } from '@multipult/graphql';
import { PlatformRoleGrants } from './admin/platform-role-grants';
import { PlatformRole, isPlatformRole } from './admin/platform-roles';
import { AuditEntry } from './audit/audit-entry.entity';
import { AuditModule } from './audit/audit.module';
import { authConfigSchema } from './config';
import { RegisterInput } from './sessions/dto';
import { Registrations } from './sessions/registrations';
import { SigningKey } from './signing-keys/signing-key.entity';
import { SigningKeyService } from './signing-keys/signing-key.service';
import { SigningKeysModule } from './signing-keys/signing-keys.module';
import { PasswordHasher } from './users/password-hasher';
import { User } from './users/user.entity';

const USAGE = `usage:
  node cli.js rotate-signing-key
  node cli.js grant-platform-role <email> <platform_admin|support|auditor>
  node cli.js create-user --email <email> --password <password> --display-name <name> [--platform-role <role>]...`;

/**
 * Accounts an operator makes (the first admin of a new installation, a support account): the same
 * input rules, password hashing, user.registered event and audit entry as a sign-up, without a
 * session. The operator vouches for the address, as an OpenID provider does for federated accounts.
 */
@Injectable()
class OperatorAccounts {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly passwords: PasswordHasher,
    private readonly registrations: Registrations,
  ) {}

  async create(input: RegisterInput): Promise<User> {
    const email = input.email.trim().toLowerCase();
    const passwordHash = await this.passwords.hash(input.password);
    const account = { email, passwordHash, displayName: input.displayName.trim(), username: input.username, emailVerifiedAt: new Date() };
    try {
      return await this.dataSource.transaction((manager) => this.registrations.create(manager, account, 'cli'));
    } catch (error) {
      const columns = uniqueViolationColumns(error);
      if (columns !== undefined) throw new Error(columns === 'username' ? `the username ${input.username} is taken` : `a user with the email ${email} exists already`);
      throw error;
    }
  }
}

/** The sign-up input rules (RegisterInput's validation), each broken rule as one readable phrase. */
async function validRegistration(values: Record<string, unknown>): Promise<RegisterInput> {
  const input = plainToInstance(RegisterInput, values);
  const problems = validationProblems(await validate(input, { whitelist: true, forbidNonWhitelisted: true }));
  if (problems.length) {
    throw new Error(problems.map((problem) => `${problem.field}: ${translate(problem.key, 'en', problem.params)}`).join('; '));
  }
  return input;
}

function createUserArgs(args: string[]): { input: Record<string, unknown>; roles: PlatformRole[] } {
  const { values } = parseArgs({
    args,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      'display-name': { type: 'string' },
      username: { type: 'string' },
      'platform-role': { type: 'string', multiple: true },
    },
  });
  const roles = values['platform-role'] ?? [];
  const unknown = roles.filter((role) => !isPlatformRole(role));
  if (unknown.length) throw new Error(`unknown platform role ${unknown.join(', ')} (platform_admin, support or auditor)`);
  const input = { email: values.email, password: values.password, displayName: values['display-name'], username: values.username };
  return { input: Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)), roles: roles as PlatformRole[] };
}

type Command = (context: INestApplicationContext, args: string[]) => Promise<Record<string, unknown>>;

const COMMANDS: Record<string, Command> = {
  'rotate-signing-key': async (context) => ({ rotated: true, kid: await context.get(SigningKeyService).rotate() }),
  'grant-platform-role': async (context, [email, role]) => {
    if (!email || !role || !isPlatformRole(role)) throw new Error(USAGE);
    return { granted: role, userId: await context.get(PlatformRoleGrants).grantByEmail(email, role) };
  },
  'create-user': async (context, args) => {
    const { input, roles } = createUserArgs(args);
    const user = await context.get(OperatorAccounts).create(await validRegistration(input));
    for (const role of roles) await context.get(PlatformRoleGrants).grantByEmail(user.email, role);
    return { created: true, userId: user.id, email: user.email, username: user.username, platformRoles: roles };
  },
};

/**
 * Operator commands against the auth database, e.g. a scheduled key rotation or making the
 * first platform admin (the multipult CLI, apps/cli, runs these):
 *   node dist/apps/auth/apps/auth/src/cli.js rotate-signing-key
 *   node dist/apps/auth/apps/auth/src/cli.js grant-platform-role ops@example.com platform_admin
 *   node dist/apps/auth/apps/auth/src/cli.js create-user --email ops@example.com --password … --display-name Ops --platform-role platform_admin
 * Prints one JSON line with the outcome.
 */
async function main([name, ...args]: string[]): Promise<void> {
  const command = name ? COMMANDS[name] : undefined;
  if (!command) throw new Error(USAGE);
  const config = loadConfig(authConfigSchema);

  @Module({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot({ service: 'auth-cli', schema: 'auth', entities: [SigningKey, AuditEntry, User, ...eventEntities], migrations: [] }),
      SigningKeysModule,
      AuditModule,
    ],
    providers: [PlatformRoleGrants, PasswordHasher, OutboxWriter, Registrations, OperatorAccounts],
  })
  class CliModule {}

  const context = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    process.stdout.write(`${JSON.stringify(await command(context, args))}\n`);
  } finally {
    await context.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof AppError ? translate(error.messageKey, 'en', error.params) : (error as Error).message;
  process.stderr.write(`auth cli: ${message}\n`);
  process.exit(1);
});
