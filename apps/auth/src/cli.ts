import 'reflect-metadata';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, ConfigModule, loadConfig } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { PlatformRoleGrants } from './admin/platform-role-grants';
import { isPlatformRole } from './admin/platform-roles';
import { AuditEntry } from './audit/audit-entry.entity';
import { AuditModule } from './audit/audit.module';
import { authConfigSchema } from './config';
import { SigningKey } from './signing-keys/signing-key.entity';
import { SigningKeyService } from './signing-keys/signing-key.service';
import { SigningKeysModule } from './signing-keys/signing-keys.module';

const USAGE = `usage:
  node cli.js rotate-signing-key
  node cli.js grant-platform-role <email> <platform_admin|support|auditor>`;

type Command = (context: INestApplicationContext, args: string[]) => Promise<Record<string, unknown>>;

const COMMANDS: Record<string, Command> = {
  'rotate-signing-key': async (context) => ({ rotated: true, kid: await context.get(SigningKeyService).rotate() }),
  'grant-platform-role': async (context, [email, role]) => {
    if (!email || !role || !isPlatformRole(role)) throw new Error(USAGE);
    return { granted: role, userId: await context.get(PlatformRoleGrants).grantByEmail(email, role) };
  },
};

/**
 * Operator commands against the auth database, e.g. a scheduled key rotation or making the
 * first platform admin:
 *   node dist/apps/auth/apps/auth/src/cli.js rotate-signing-key
 *   node dist/apps/auth/apps/auth/src/cli.js grant-platform-role ops@example.com platform_admin
 */
async function main([name, ...args]: string[]): Promise<void> {
  const command = name ? COMMANDS[name] : undefined;
  if (!command) throw new Error(USAGE);
  const config = loadConfig(authConfigSchema);

  @Module({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot({ service: 'auth-cli', schema: 'auth', entities: [SigningKey, AuditEntry], migrations: [] }),
      SigningKeysModule,
      AuditModule,
    ],
    providers: [PlatformRoleGrants],
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
  process.stderr.write(`auth cli: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
