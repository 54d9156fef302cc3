import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ConnectionArgs, ConnectionType, keyed } from '@multipult/graphql';
import { ExportItem } from './export-item.entity';
import { Export, ExportFormat, ExportStatus } from './export.entity';

@InputType()
export class ExportSearchInput {
  @Field({ description: 'As in searchDocuments' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  query: string;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  languages?: string[];
}

@InputType({ description: 'Exactly one of: documentIds, collectionId, search' })
export class ExportSelectionInput {
  @Field(() => [ID], { nullable: true, description: 'These documents, in this order' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(5000, { message: keyed('validation.arrayMaxSize') })
  @IsUUID('all', { each: true, message: 'validation.invalid' })
  documentIds?: string[];

  @Field(() => ID, { nullable: true, description: "A collection's documents, in collection order" })
  @IsOptional()
  @IsUUID('all', { message: 'validation.invalid' })
  collectionId?: string;

  @Field(() => ExportSearchInput, { nullable: true, description: 'The documents a search finds, most relevant first' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExportSearchInput)
  search?: ExportSearchInput;
}

@InputType()
export class WatermarkInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  text?: string;

  @Field({ nullable: true, description: 'PNG or JPEG, base64' })
  @IsOptional()
  @IsString()
  imageBase64?: string;

  @Field(() => Float, { nullable: true, description: '0 to 1; 0.15 when omitted' })
  @IsOptional()
  @IsNumber()
  @Min(0.02, { message: keyed('validation.min') })
  @Max(1, { message: keyed('validation.max') })
  opacity?: number;

  @Field(() => Float, { nullable: true, description: 'Degrees, counter-clockwise; 45 when omitted' })
  @IsOptional()
  @IsNumber()
  @Min(-180, { message: keyed('validation.min') })
  @Max(180, { message: keyed('validation.max') })
  rotationDegrees?: number;
}

@InputType()
export class RequestExportInput {
  @Field({ nullable: true, description: 'Shown on the title page and in the file name' })
  @IsOptional()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  title?: string;

  @Field(() => ExportFormat)
  @IsEnum(ExportFormat, { message: 'validation.invalid' })
  format: ExportFormat;

  @Field(() => ExportSelectionInput)
  @ValidateNested()
  @Type(() => ExportSelectionInput)
  selection: ExportSelectionInput;

  @Field(() => ID, { nullable: true, description: 'A template of the tenant; the built-in one when omitted' })
  @IsOptional()
  @IsUUID('all', { message: 'validation.invalid' })
  templateId?: string;

  @Field(() => Int, { nullable: true, description: "The template's latest version when omitted" })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  templateVersion?: number;

  @Field(() => WatermarkInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => WatermarkInput)
  watermark?: WatermarkInput;

  @Field({ nullable: true, description: 'Stamp each PDF download with who downloaded it and when' })
  @IsOptional()
  @IsBoolean()
  recipientWatermark?: boolean;

  @Field(() => ID, { nullable: true, description: 'Required for JIRA exports' })
  @IsOptional()
  @IsUUID('all', { message: 'validation.invalid' })
  jiraConnectionId?: string;
}

@ObjectType()
export class ExportPayload {
  @Field(() => Export)
  export: Export;
}

@ArgsType()
export class ExportsArgs extends ConnectionArgs {
  @Field(() => ExportStatus, { nullable: true })
  @IsOptional()
  @IsEnum(ExportStatus, { message: 'validation.invalid' })
  status?: ExportStatus;

  @Field({ nullable: true, description: "Every member's exports (needs export:templates); the caller's own otherwise" })
  @IsOptional()
  @IsBoolean()
  allMembers?: boolean;
}

export const ExportConnection = ConnectionType(Export);
export const ExportItemConnection = ConnectionType(ExportItem);

/** One export, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class ExportIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.invalid' })
  id: string;
}
