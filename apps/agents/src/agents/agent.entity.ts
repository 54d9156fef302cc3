import { Directive, Field, ID, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A federation entity: other services reference it by id and the gateway asks this service for its fields. */
@ObjectType()
@Directive('@key(fields: "id")')
@Entity('agents')
export class Agent {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID, { description: 'The user who created it' })
  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  @Field()
  @Column({ type: 'text' })
  name: string;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
