import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IsInt, IsOptional, IsUUID, Min } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { UserReference } from '../users/user.reference';

export enum DiffLineKind {
  ADDED = 'added',
  REMOVED = 'removed',
  UNCHANGED = 'unchanged',
}

registerEnumType(DiffLineKind, { name: 'DiffLineKind' });

@InputType()
export class DocumentDiffInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;

  @Field(() => Int)
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  fromVersion: number;

  @Field(() => Int)
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  toVersion: number;
}

@InputType()
export class RestoreDocumentVersionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;

  @Field(() => Int, { description: 'The version whose title, summary and body become a new version' })
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  version: number;

  @Field(() => Int, { nullable: true, description: 'Refuse (CONFLICT) unless the document is at this version' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  expectedVersion?: number;
}

@ArgsType()
export class DocumentBlameArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;
}

@ObjectType()
export class FieldChange {
  @Field()
  field: string;

  @Field()
  from: string;

  @Field()
  to: string;
}

@ObjectType()
export class DiffLine {
  @Field(() => DiffLineKind)
  kind: DiffLineKind;

  @Field()
  text: string;

  @Field(() => Int, { nullable: true })
  oldLine: number | null;

  @Field(() => Int, { nullable: true })
  newLine: number | null;
}

@ObjectType({ description: 'Field changes and a line diff of the body between two versions' })
export class DocumentDiff {
  @Field(() => Int)
  fromVersion: number;

  @Field(() => Int)
  toVersion: number;

  @Field(() => [FieldChange])
  fieldChanges: FieldChange[];

  @Field(() => [DiffLine])
  bodyLines: DiffLine[];
}

@ObjectType({ description: 'One line of the current body with the version and user that last changed it' })
export class BlameLine {
  @Field(() => Int)
  lineNumber: number;

  @Field()
  text: string;

  @Field(() => Int)
  version: number;

  @Field(() => UserReference)
  changedBy: UserReference;

  @Field()
  changedAt: Date;
}
