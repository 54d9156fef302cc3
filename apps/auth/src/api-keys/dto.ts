import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsDate, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { keyed } from '@multipult/graphql';

@ObjectType({ description: 'A key for programs acting as its owner in one tenant, limited to its scopes' })
export class ApiKey {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field({ description: 'The visible start of the key (`mpk_XXXXXXXX`), to tell keys apart' })
  prefix: string;

  @Field(() => [String], { description: 'Permissions the key may use (never more than its owner holds at the time)' })
  scopes: string[];

  @Field(() => ID)
  tenantId: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'Last request made with it (updated at most once a minute)' })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt: Date | null;
}

@InputType()
export class CreateApiKeyInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(100, { message: keyed('validation.maxLength') })
  name: string;

  @Field(() => [String], { description: 'Catalogued permissions (see permissionCatalog) the caller holds in the current tenant' })
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  scopes: string[];

  @Field(() => Date, { nullable: true, description: 'When it stops working; never when omitted' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'validation.invalid' })
  expiresAt?: Date;
}

@ObjectType()
export class CreateApiKeyPayload {
  @Field(() => ApiKey)
  apiKey: ApiKey;

  @Field({ description: 'The key itself, shown only now: send it as `Authorization: ApiKey <key>` or `x-api-key`' })
  key: string;
}

@InputType()
export class ApiKeyInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  keyId: string;
}

@ObjectType()
export class RevokeApiKeyPayload {
  @Field(() => ApiKey)
  apiKey: ApiKey;
}
