import { ArgsType, Field, ID, InputType, Int, ObjectType, PartialType, PickType } from '@nestjs/graphql';
import { ArrayMaxSize, IsInt, IsOptional, IsString, IsUUID, MaxLength, Min, MinLength } from 'class-validator';
import { ConnectionType, keyed } from '@multipult/graphql';
import { Collection } from './collection.entity';

/** Most documents one collection holds. */
export const MAX_COLLECTION_DOCUMENTS = 1000;

@InputType()
export class CreateCollectionInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  title: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2000, { message: keyed('validation.maxLength') })
  description?: string;
}

@InputType()
export class UpdateCollectionInput extends PartialType(CreateCollectionInput) {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@InputType()
export class CollectionIdInput extends PickType(UpdateCollectionInput, ['id'] as const) {}

@InputType()
export class CollectionDocumentInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  collectionId: string;

  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;
}

@InputType()
export class AddDocumentToCollectionInput extends CollectionDocumentInput {
  @Field(() => Int, { nullable: true, description: 'Zero-based; appended when omitted, clamped to the end' })
  @IsOptional()
  @IsInt()
  @Min(0, { message: keyed('validation.min') })
  position?: number;
}

@InputType()
export class MoveDocumentInCollectionInput extends CollectionDocumentInput {
  @Field(() => Int, { description: 'Zero-based new position, clamped to the end' })
  @IsInt()
  @Min(0, { message: keyed('validation.min') })
  position: number;
}

@InputType()
export class ReorderCollectionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  collectionId: string;

  @Field(() => [ID], { description: "Every document of the collection, each once, in the new order" })
  @ArrayMaxSize(MAX_COLLECTION_DOCUMENTS, { message: keyed('validation.max') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  documentIds: string[];
}

@ArgsType()
export class CollectionArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@ObjectType()
export class CollectionPayload {
  @Field(() => Collection)
  collection: Collection;
}

@ObjectType()
export class DeleteCollectionPayload {
  @Field(() => ID)
  deletedCollectionId: string;
}

export const CollectionConnection = ConnectionType(Collection);
