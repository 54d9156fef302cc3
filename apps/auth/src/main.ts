import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfigOrExit } from '@multipult/config';
import { createServiceApp } from '@multipult/graphql';
import { AUTH_SERVICE, AppModule } from './app.module';
import { authConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(authConfigSchema, AUTH_SERVICE);
  const app = await createServiceApp(AppModule.forRoot(config), { bodyLimit: config.BODY_LIMIT });
  await app.listen(config.PORT, config.HOST);
  new Logger('Bootstrap').log(`auth subgraph listening on http://${config.HOST}:${config.PORT}/graphql`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${AUTH_SERVICE}: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
