import { Field, ID, ObjectType } from '@nestjs/graphql';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A named set of `resource:action` permissions; tenant_id null marks a built-in role of every tenant. */
@ObjectType()
@Entity('roles')
export class Role {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid', nullable: true })
  tenantId: string | null;

  @Field()
  @Column({ type: 'text' })
  name: string;

  @Field(() => [String])
  @Column({ type: 'text', array: true })
  permissions: string[];
}

/** Built-in roles seeded by the initial migration. */
export const BUILTIN_ROLES = {
  admin: ['*'],
  member: ['agents:approve', 'agents:use', 'content:read', 'content:write', 'export:create', 'notifications:read', 'tenant:read'],
  viewer: ['content:read', 'tenant:read'],
} as const;
