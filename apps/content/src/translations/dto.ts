import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { LANGUAGE_CODE } from '../documents/dto';
import { DocumentTranslation } from './translation.entity';

@InputType({ description: 'Creates the translation into `language`, or replaces it if there is one' })
export class SaveTranslationInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;

  @Field({ description: 'ISO 639-1 code, other than the document’s own language' })
  @Matches(LANGUAGE_CODE, { message: 'validation.language' })
  language: string;

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

  @Field(() => ID, { nullable: true, description: 'The translator, an author of this tenant; null clears it' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsUUID('all', { message: 'validation.isUUID' })
  translatorId?: string | null;
}

@InputType()
export class DeleteTranslationInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;

  @Field()
  @Matches(LANGUAGE_CODE, { message: 'validation.language' })
  language: string;
}

@ObjectType()
export class TranslationPayload {
  @Field(() => DocumentTranslation)
  translation: DocumentTranslation;
}

@ObjectType()
export class DeleteTranslationPayload {
  @Field(() => ID)
  deletedTranslationId: string;
}
