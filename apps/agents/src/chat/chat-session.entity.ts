import { Directive, Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A member's conversation with their agents: messages in order, older turns summarised to fit the context window. */
@ObjectType({ description: 'A conversation with agents; each message is answered by a run, one message at a time' })
@Directive('@key(fields: "id")')
@Entity('agent_chat_sessions')
export class ChatSession {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID)
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field(() => ID, { nullable: true, description: 'The agent that answers DIRECT messages that name none' })
  @Column({ name: 'agent_id', type: 'uuid', nullable: true })
  agentId: string | null;

  @Field(() => Int, { description: 'Messages so far' })
  @Column({ name: 'last_seq', type: 'int' })
  lastSeq: number;

  @Field(() => String, { nullable: true, description: 'A summary of the turns too old to fit the context window' })
  @Column({ type: 'text', nullable: true })
  summary: string | null;

  @Field(() => Int, { description: 'The summary covers the turns (messages and their answers) up to this seq' })
  @Column({ name: 'summarized_through', type: 'int' })
  summarizedThrough: number;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
