import { Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { CODE_PATTERN } from '../two-factor/dto';

export enum DataExportStatus {
  PENDING = 'pending',
  READY = 'ready',
  PARTIAL = 'partial',
}
registerEnumType(DataExportStatus, {
  name: 'DataExportStatus',
  valuesMap: { PARTIAL: { description: 'Assembled after DATA_EXPORT_TIMEOUT_SECONDS without every service; see missingServices' } },
});

export enum AccountErasureStatus {
  PENDING = 'pending',
  OVERDUE = 'overdue',
  COMPLETED = 'completed',
}
registerEnumType(AccountErasureStatus, {
  name: 'AccountErasureStatus',
  valuesMap: { OVERDUE: { description: 'Some services have not confirmed within ERASURE_TIMEOUT_SECONDS; it completes when they do' } },
});

@ObjectType({ description: "A copy of everything the platform holds about the caller, assembled from every service's part" })
export class DataExport {
  @Field(() => ID)
  id: string;

  @Field(() => DataExportStatus)
  status: DataExportStatus;

  @Field(() => [String], { description: 'Services whose part did not arrive in time (PARTIAL)' })
  missingServices: string[];

  @Field()
  requestedAt: Date;

  @Field(() => Date, { nullable: true })
  completedAt: Date | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Once READY or PARTIAL: a download link (relative to the gateway, no access token needed) to the JSON document, where `services.<name>` holds each part. A fresh link on every read; short-lived, treat it as a secret',
  })
  url: string | null;

  @Field(() => Date, { nullable: true, description: 'When url stops working (FILE_LINK_TTL_SECONDS); read the export again for a new one' })
  expiresAt: Date | null;
}

@InputType()
export class DataExportInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  exportId: string;
}

@ObjectType({ description: 'The erasure of an account across every service' })
export class AccountErasure {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  userId: string;

  @Field(() => AccountErasureStatus)
  status: AccountErasureStatus;

  @Field(() => [String])
  confirmedServices: string[];

  @Field(() => [String], { description: 'Services that have not confirmed yet' })
  pendingServices: string[];

  @Field()
  requestedAt: Date;

  @Field(() => Date, { nullable: true })
  completedAt: Date | null;
}

@InputType()
export class DeleteMyAccountInput {
  @Field({ description: 'The current password, to confirm' })
  @IsString()
  @IsNotEmpty({ message: 'validation.isNotEmpty' })
  @MaxLength(256, { message: keyed('validation.maxLength') })
  password: string;

  @Field({ nullable: true, description: 'With two-factor sign-in on: a code from the app or a backup code' })
  @IsOptional()
  @Matches(CODE_PATTERN, { message: 'validation.invalid' })
  code?: string;
}

@InputType()
export class AccountErasureInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  erasureId: string;
}
