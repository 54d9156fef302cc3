import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, ConfigModule, loadConfig } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { authConfigSchema } from './config';
import { SigningKey } from './signing-keys/signing-key.entity';
import { SigningKeyService } from './signing-keys/signing-key.service';
import { SigningKeysModule } from './signing-keys/signing-keys.module';

const USAGE = 'usage: node cli.js rotate-signing-key';

/**
 * Operator commands against the auth database, e.g. a scheduled key rotation:
 *   node dist/apps/auth/apps/auth/src/cli.js rotate-signing-key
 */
async function main(command: string | undefined): Promise<void> {
  if (command !== 'rotate-signing-key') throw new Error(USAGE);
  const config = loadConfig(authConfigSchema);

  @Module({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot({ service: 'auth-cli', schema: 'auth', entities: [SigningKey], migrations: [] }),
      SigningKeysModule,
    ],
  })
  class CliModule {}

  const context = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    const kid = await context.get(SigningKeyService).rotate();
    process.stdout.write(`${JSON.stringify({ rotated: true, kid })}\n`);
  } finally {
    await context.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`auth cli: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
