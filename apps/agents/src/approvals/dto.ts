import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { keyed } from '@multipult/graphql';

@InputType()
export class DecideToolCallInput {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  toolCallId: string;

  @Field({ description: 'true runs the call; false rejects it (the model is told it was declined)' })
  @IsBoolean()
  approve: boolean;

  @Field(() => String, { nullable: true, description: 'Kept in the history and given to the model on rejection' })
  @IsOptional()
  @IsString()
  @MaxLength(1000, { message: keyed('validation.maxLength') })
  note?: string;
}

@InputType({ description: 'Approve a class of calls (e.g. write_file, run_command:grep) for the rest of a run' })
export class ApproveToolCallClassInput {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  runId: string;

  @Field({ description: 'As in ToolCall.approvalClass' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  approvalClass: string;
}

@ArgsType()
export class PendingApprovalsArgs {
  @Field(() => ID, { nullable: true, description: 'Only this run' })
  @IsOptional()
  @IsUUID('all', { message: keyed('validation.invalid') })
  runId?: string;
}
