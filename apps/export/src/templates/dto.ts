import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IsBoolean, IsEnum, IsHexColor, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { keyed } from '@multipult/graphql';

export enum PageSize {
  A4 = 'A4',
  LETTER = 'LETTER',
}
export enum FontFamily {
  SANS = 'sans',
  SERIF = 'serif',
}
export enum DocumentBreak {
  PAGE = 'page',
  CONTINUOUS = 'continuous',
}
registerEnumType(PageSize, { name: 'ExportPageSize' });
registerEnumType(FontFamily, { name: 'ExportFontFamily' });
registerEnumType(DocumentBreak, { name: 'ExportDocumentBreak', description: 'Whether each document starts on a new page' });

@ObjectType({ description: 'Page margins in points' })
export class ExportMargins {
  @Field(() => Float)
  top: number;

  @Field(() => Float)
  right: number;

  @Field(() => Float)
  bottom: number;

  @Field(() => Float)
  left: number;
}

@InputType()
export class ExportMarginsInput {
  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0, { message: keyed('validation.min') })
  @Max(216, { message: keyed('validation.max') })
  top?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0, { message: keyed('validation.min') })
  @Max(216, { message: keyed('validation.max') })
  right?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0, { message: keyed('validation.min') })
  @Max(216, { message: keyed('validation.max') })
  bottom?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0, { message: keyed('validation.min') })
  @Max(216, { message: keyed('validation.max') })
  left?: number;
}

@ObjectType({ description: 'Page and type settings of a template version' })
export class ExportTemplateStyles {
  @Field(() => PageSize)
  pageSize: PageSize;

  @Field(() => ExportMargins)
  margins: ExportMargins;

  @Field(() => FontFamily)
  fontFamily: FontFamily;

  @Field(() => Float)
  baseFontSize: number;

  @Field(() => Float)
  lineHeight: number;

  @Field()
  headingColor: string;

  @Field()
  textColor: string;

  @Field()
  linkColor: string;

  @Field()
  mutedColor: string;

  @Field()
  tableOfContents: boolean;

  @Field(() => DocumentBreak)
  documentBreak: DocumentBreak;
}

const color = () => IsHexColor({ message: 'validation.invalid' });

@InputType({ description: 'Omitted settings take their defaults' })
export class ExportTemplateStylesInput {
  @Field(() => PageSize, { nullable: true })
  @IsOptional()
  @IsEnum(PageSize, { message: 'validation.invalid' })
  pageSize?: PageSize;

  @Field(() => ExportMarginsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExportMarginsInput)
  margins?: ExportMarginsInput;

  @Field(() => FontFamily, { nullable: true })
  @IsOptional()
  @IsEnum(FontFamily, { message: 'validation.invalid' })
  fontFamily?: FontFamily;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(6, { message: keyed('validation.min') })
  @Max(24, { message: keyed('validation.max') })
  baseFontSize?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(1, { message: keyed('validation.min') })
  @Max(3, { message: keyed('validation.max') })
  lineHeight?: number;

  @Field({ nullable: true })
  @IsOptional()
  @color()
  headingColor?: string;

  @Field({ nullable: true })
  @IsOptional()
  @color()
  textColor?: string;

  @Field({ nullable: true })
  @IsOptional()
  @color()
  linkColor?: string;

  @Field({ nullable: true })
  @IsOptional()
  @color()
  mutedColor?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  tableOfContents?: boolean;

  @Field(() => DocumentBreak, { nullable: true })
  @IsOptional()
  @IsEnum(DocumentBreak, { message: 'validation.invalid' })
  documentBreak?: DocumentBreak;
}

@InputType()
export class ExportTemplateDefinitionInput {
  @Field({ description: 'Handlebars → Markdown of the title page: title, tenantName, exportedBy, exportedAt, documentCount, companyName; empty for none' })
  @IsString()
  @MaxLength(20_000, { message: keyed('validation.maxLength') })
  titlePage: string;

  @Field({ description: 'Handlebars → the line at the top of each page' })
  @IsString()
  @MaxLength(500, { message: keyed('validation.maxLength') })
  header: string;

  @Field({ description: 'Handlebars → the line at the bottom of each page; {{page}} and {{pages}} available' })
  @IsString()
  @MaxLength(500, { message: keyed('validation.maxLength') })
  footer: string;

  @Field(() => ExportTemplateStylesInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExportTemplateStylesInput)
  styles?: ExportTemplateStylesInput;
}

@InputType()
export class CreateExportTemplateInput {
  @Field({ description: 'Unique within the tenant; 1 to 120 characters' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(120, { message: keyed('validation.maxLength') })
  name: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000, { message: keyed('validation.maxLength') })
  description?: string;

  @Field(() => ExportTemplateDefinitionInput)
  @ValidateNested()
  @Type(() => ExportTemplateDefinitionInput)
  definition: ExportTemplateDefinitionInput;
}

@InputType()
export class AddExportTemplateVersionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.invalid' })
  templateId: string;

  @Field(() => ExportTemplateDefinitionInput)
  @ValidateNested()
  @Type(() => ExportTemplateDefinitionInput)
  definition: ExportTemplateDefinitionInput;
}

@InputType()
export class PreviewExportTemplateInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.invalid' })
  templateId: string;

  @Field(() => Int, { nullable: true, description: 'The latest when omitted' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  version?: number;
}

@InputType()
export class SetExportBrandingInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200, { message: keyed('validation.maxLength') })
  companyName?: string;

  @Field({ nullable: true })
  @IsOptional()
  @color()
  primaryColor?: string;

  @Field({ nullable: true })
  @IsOptional()
  @color()
  accentColor?: string;

  @Field({ nullable: true, description: 'PNG or JPEG, base64; replaces the logo' })
  @IsOptional()
  @IsString()
  logoBase64?: string;

  @Field({ nullable: true, description: 'Removes the logo' })
  @IsOptional()
  @IsBoolean()
  removeLogo?: boolean;
}

@ObjectType()
export class ExportFileLink {
  @Field({ description: "Relative to the gateway's origin; works until expiresAt" })
  url: string;

  @Field()
  expiresAt: Date;
}

/** One template, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class ExportTemplateIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.invalid' })
  id: string;
}
