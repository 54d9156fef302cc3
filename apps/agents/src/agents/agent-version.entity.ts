import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { AgentSettings } from './agent.entity';

/** The settings of one version of an agent, as they were. */
@ObjectType({ description: 'An agent as it was at one version' })
@Entity('agent_versions')
export class AgentVersion {
  @PrimaryColumn({ name: 'agent_id', type: 'uuid' })
  agentId: string;

  @Field(() => Int)
  @PrimaryColumn({ type: 'int' })
  version: number;

  @Field(() => GraphQLJSONObject, { description: 'name, description, systemPrompt, model, tools, concurrencyLimit, autoApprove, budgets, maxOutputTokens' })
  @Column({ type: 'jsonb' })
  config: AgentSettings;

  @Field(() => ID)
  @Column({ name: 'created_by', type: 'uuid' })
  createdBy: string;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
