import { ArgsType, Field, ID, InputType, Int, ObjectType, PartialType } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ConnectionType, keyed } from '@multipult/graphql';
import { Document, DocumentType } from './document.entity';

export const LANGUAGE_CODE = /^[a-z]{2}$/;

@InputType()
export class CreateDocumentInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(300, { message: keyed('validation.maxLength') })
  title: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2000, { message: keyed('validation.maxLength') })
  summary?: string;

  @Field({ description: 'Markdown, at most 500 000 characters' })
  @IsString()
  @MaxLength(500_000, { message: keyed('validation.maxLength') })
  body: string;

  @Field(() => DocumentType)
  @IsEnum(DocumentType, { message: 'validation.invalid' })
  type: DocumentType;

  @Field({ description: 'ISO 639-1 code, e.g. en, ru, tt' })
  @Matches(LANGUAGE_CODE, { message: 'validation.language' })
  language: string;

  @Field(() => [ID], { nullable: true, description: 'Authors in display order' })
  @IsOptional()
  @ArrayMaxSize(20, { message: keyed('validation.max') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  authorIds?: string[];

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(30, { message: keyed('validation.max') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  tagIds?: string[];
}

/** Every field of CreateDocumentInput, optional, with the same validation. */
@InputType()
export class UpdateDocumentInput extends PartialType(CreateDocumentInput) {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;

  @Field(() => Int, { nullable: true, description: 'Refuse the update (CONFLICT) unless the document is at this version' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  expectedVersion?: number;
}

@InputType()
export class DocumentIdInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@ArgsType()
export class DocumentArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@ObjectType()
export class DocumentPayload {
  @Field(() => Document)
  document: Document;
}

@ObjectType()
export class DeleteDocumentPayload {
  @Field(() => ID)
  deletedDocumentId: string;
}

export const DocumentConnection = ConnectionType(Document);
