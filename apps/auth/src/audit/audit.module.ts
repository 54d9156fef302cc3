import { Global, Module } from '@nestjs/common';
import { AuditExports } from './audit-exports';
import { AuditLog } from './audit-log.service';
import { AuditResolver } from './audit.resolver';

/** Global: every feature module records its actions. */
@Global()
@Module({ providers: [AuditLog, AuditExports, AuditResolver], exports: [AuditLog] })
export class AuditModule {}
