import { ArgsType, Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsDate, IsEnum, IsOptional, IsUUID, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ConnectionArgs, ConnectionType, keyed } from '@multipult/graphql';
import { AuditEntry, AuditOutcome } from './audit-entry.entity';

export const AuditEntryConnection = ConnectionType(AuditEntry);

@InputType({ description: 'Every given condition must hold' })
export class AuditLogFilter {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'validation.isUUID' })
  actorId?: string;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(200, { message: keyed('validation.maxLength') })
  targetId?: string;

  @Field({ nullable: true, description: 'An action (`user.banned`) or a prefix ending in a dot (`admin.`)' })
  @IsOptional()
  @Matches(/^[a-z0-9_.]{1,100}$/, { message: 'validation.invalid' })
  action?: string;

  @Field(() => AuditOutcome, { nullable: true })
  @IsOptional()
  @IsEnum(AuditOutcome, { message: 'validation.invalid' })
  outcome?: AuditOutcome;

  @Field(() => ID, { nullable: true, description: 'Platform log only; the tenant log is always its own tenant' })
  @IsOptional()
  @IsUUID('all', { message: 'validation.isUUID' })
  tenantId?: string;

  @Field(() => Date, { nullable: true, description: 'At or after' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'validation.invalid' })
  from?: Date;

  @Field(() => Date, { nullable: true, description: 'Before' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'validation.invalid' })
  to?: Date;
}

@ArgsType()
export class AuditLogArgs extends ConnectionArgs {
  @Field(() => AuditLogFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => AuditLogFilter)
  filter?: AuditLogFilter;
}

@ObjectType({ description: 'A download link to audit entries as CSV (RFC 4180, header row, newest first)' })
export class AuditLogExport {
  @Field({
    description:
      'GET it (relative to the gateway, no access token needed) for the CSV of exactly the rowCount entries matched when the link was made; short-lived, treat it as a secret',
  })
  url: string;

  @Field({ description: 'The link stops working at this time (FILE_LINK_TTL_SECONDS); ask for a new one after' })
  expiresAt: Date;

  @Field(() => Int)
  rowCount: number;

  @Field({ description: 'More entries matched than AUDIT_EXPORT_MAX_ROWS; narrow the filter (e.g. by date) for the rest' })
  truncated: boolean;
}
