import { Global, Module } from '@nestjs/common';
import { AuditLog } from './audit-log.service';
import { AuditResolver } from './audit.resolver';

/** Global: every feature module records its actions. */
@Global()
@Module({ providers: [AuditLog, AuditResolver], exports: [AuditLog] })
export class AuditModule {}
