import { ArgsType, Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsEnum, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { ConnectionType, keyed } from '@multipult/graphql';
import { RunMode } from '../runs/run.entity';
import { AgentRun } from '../runs/run.entity';
import { ChatMessage } from './chat-message.entity';
import { ChatSession } from './chat-session.entity';

@InputType()
export class CreateChatSessionInput {
  @Field(() => String, { nullable: true, description: 'Up to 200 characters; "New chat" when omitted' })
  @IsOptional()
  @IsString()
  @MaxLength(200, { message: keyed('validation.maxLength') })
  title?: string;

  @Field(() => ID, { nullable: true, description: 'The agent that answers DIRECT messages naming none' })
  @IsOptional()
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId?: string;
}

@InputType({ description: 'A message to a session; it is answered after the messages before it' })
export class SendChatMessageInput {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  sessionId: string;

  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(20_000, { message: keyed('validation.maxLength') })
  content: string;

  @Field(() => RunMode, { nullable: true, description: "DIRECT (one agent answers; the session's agent unless agentId) or ORCHESTRATED (the planner splits it over agents); DIRECT when omitted" })
  @IsOptional()
  @IsEnum(RunMode)
  mode?: RunMode;

  @Field(() => ID, { nullable: true, description: 'DIRECT: the agent that answers this message' })
  @IsOptional()
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId?: string;

  @Field(() => [ID], { nullable: true, description: "ORCHESTRATED: the agents the planner may use; all the caller's agents when omitted" })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(20, { message: keyed('validation.arrayMaxSize') })
  @IsUUID('all', { each: true, message: keyed('validation.invalid') })
  agentIds?: string[];
}

@ObjectType()
export class ChatSessionPayload {
  @Field(() => ChatSession)
  session: ChatSession;
}

@ObjectType()
export class SendChatMessagePayload {
  @Field(() => ChatMessage)
  message: ChatMessage;

  @Field(() => AgentRun, { description: 'The run that answers it: WAITING_TURN while an earlier message is being answered' })
  run: AgentRun;
}

export const ChatSessionConnection = ConnectionType(ChatSession);

/** One chat session, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class ChatSessionIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  id: string;
}
