import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum ChatRole {
  USER = 'user',
  ASSISTANT = 'assistant',
}

registerEnumType(ChatRole, { name: 'ChatRole' });

@ObjectType({ description: 'A message of a chat session: what the member said, or the answer of the run it started' })
@Entity('agent_chat_messages')
export class ChatMessage {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID)
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @Field(() => Int, { description: 'Its place in the session, from 1' })
  @Column({ type: 'int' })
  seq: number;

  @Field(() => ChatRole)
  @Column({ type: 'text' })
  role: ChatRole;

  @Field()
  @Column({ type: 'text' })
  content: string;

  @Field(() => ID, { nullable: true, description: 'The run that answers (for a user message) or answered (for an assistant message)' })
  @Column({ name: 'run_id', type: 'uuid', nullable: true })
  runId: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
