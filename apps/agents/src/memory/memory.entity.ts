import { Field, Float, ID, ObjectType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Something an agent remembers for a member: a past interaction or a fact given to it, with its embedding. */
@ObjectType({ description: "An agent's memory of a member: text, metadata to filter by, and when it was made" })
@Entity('agent_memories')
export class AgentMemory {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID)
  @Column({ name: 'agent_id', type: 'uuid' })
  agentId: string;

  @Field(() => ID, { description: 'The member it is about' })
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Field()
  @Column({ type: 'text' })
  content: string;

  @Field(() => GraphQLJSONObject, { description: 'Free-form; searches filter by containment (all given keys equal)' })
  @Column({ type: 'jsonb' })
  metadata: Record<string, unknown>;

  @Field({ description: 'The model that embedded it; only memories of the current embeddings model are searched' })
  @Column({ name: 'embedding_model', type: 'text' })
  embeddingModel: string;

  /** Unit length, so cosine similarity is the dot product. */
  @Column({ type: 'real', array: true })
  embedding: number[];

  @Field(() => ID, { nullable: true, description: 'The task whose interaction it records' })
  @Column({ name: 'task_id', type: 'uuid', nullable: true })
  taskId: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@ObjectType({ description: 'A memory and how similar it is to the query (cosine, -1 to 1)' })
export class AgentMemoryMatch {
  @Field(() => AgentMemory)
  memory: AgentMemory;

  @Field(() => Float, { nullable: true, description: 'Null when listed without a query' })
  score: number | null;
}
