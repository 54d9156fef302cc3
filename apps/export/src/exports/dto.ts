import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { ConnectionType, keyed } from '@multipult/graphql';
import { Export } from './export.entity';

@InputType()
export class CreateExportInput {
  @Field({ description: 'Unique within the tenant; 1 to 120 characters' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(120, { message: keyed('validation.maxLength') })
  name: string;
}

@ObjectType()
export class CreateExportPayload {
  @Field(() => Export)
  export: Export;
}

export const ExportConnection = ConnectionType(Export);
