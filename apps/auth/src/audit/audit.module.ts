import { Global, Module } from '@nestjs/common';
import { AuditExports } from './audit-exports';
import { AuditLog } from './audit-log.service';
import { AuditResolver } from './audit.resolver';

/** Global: every feature module (and the operator CLI) records its actions. */
@Global()
@Module({ providers: [AuditLog], exports: [AuditLog] })
export class AuditModule {}

/** Reading and exporting the log: the service's API (needs FilesModule for the export links). */
@Module({ providers: [AuditExports, AuditResolver] })
export class AuditApiModule {}
