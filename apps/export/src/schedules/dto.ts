import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsBoolean, IsEnum, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { ExportSelectionInput } from '../exports/dto';
import { ExportFormat } from '../exports/export.entity';

@InputType()
export class CreateExportScheduleInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  title: string;

  @Field({ description: 'Five-field cron; runs at most once a minute' })
  @IsString()
  @MaxLength(100, { message: keyed('validation.maxLength') })
  cron: string;

  @Field({ nullable: true, description: 'IANA time zone; UTC when omitted' })
  @IsOptional()
  @IsString()
  @MaxLength(64, { message: keyed('validation.maxLength') })
  timeZone?: string;

  @Field(() => ExportFormat)
  @IsEnum(ExportFormat, { message: 'validation.invalid' })
  format: ExportFormat;

  @Field(() => ExportSelectionInput)
  @ValidateNested()
  @Type(() => ExportSelectionInput)
  selection: ExportSelectionInput;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'validation.invalid' })
  templateId?: string;
}

@InputType()
export class SetExportScheduleEnabledInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.invalid' })
  id: string;

  @Field()
  @IsBoolean()
  enabled: boolean;
}

/** One schedule, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class ExportScheduleIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.invalid' })
  id: string;
}
