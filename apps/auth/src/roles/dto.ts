import { applyDecorators } from '@nestjs/common';
import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { ArrayMaxSize, ArrayMinSize, IsString, IsUUID, Matches } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { BUILTIN_ROLES, Role } from '../tenants/role.entity';

export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{1,39}$/;
export const MAX_ROLE_PERMISSIONS = 50;

/** The `role` of member inputs (add, invite, change role): a role name of the tenant. */
export const TenantRoleNameField = () =>
  applyDecorators(
    Field({ description: `A role of the tenant: built-in (${Object.keys(BUILTIN_ROLES).join(', ')}) or custom; at most the caller's own permissions` }),
    Matches(ROLE_NAME_PATTERN, { message: 'validation.invalid' }),
  );

@ObjectType({ description: 'A tenant permission a role may hold' })
export class PermissionInfo {
  @Field({ description: '`resource:action`' })
  permission: string;

  @Field()
  description: string;
}

@InputType()
export class CreateTenantRoleInput {
  @Field({ description: '2 to 40 lowercase letters, digits, - or _, starting with a letter; not a built-in role name' })
  @Matches(ROLE_NAME_PATTERN, { message: 'validation.invalid' })
  name: string;

  @Field(() => [String], { description: 'Catalogued permissions (see permissionCatalog), `resource:*` or `*`; only ones the caller holds' })
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(MAX_ROLE_PERMISSIONS, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  permissions: string[];
}

@InputType()
export class UpdateTenantRoleInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  roleId: string;

  @Field(() => [String])
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(MAX_ROLE_PERMISSIONS, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  permissions: string[];
}

@InputType()
export class TenantRoleInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  roleId: string;
}

@ObjectType()
export class TenantRolePayload {
  @Field(() => Role)
  role: Role;
}

@ObjectType()
export class DeleteTenantRolePayload {
  @Field(() => ID)
  deletedRoleId: string;
}
