import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { ConnectionType, keyed } from '@multipult/graphql';
import { Agent } from './agent.entity';

@InputType()
export class CreateAgentInput {
  @Field({ description: 'Unique within the tenant; 1 to 120 characters' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(120, { message: keyed('validation.maxLength') })
  name: string;
}

@ObjectType()
export class CreateAgentPayload {
  @Field(() => Agent)
  agent: Agent;
}

export const AgentConnection = ConnectionType(Agent);
