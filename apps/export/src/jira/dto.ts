import { ArgsType, Field, ID, InputType, ObjectType, PartialType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsEmail,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { keyed } from '@multipult/graphql';
import { JiraConnection } from './jira-connection.entity';

/** JIRA's own rules: project keys are upper-case letters, digits and underscores starting with a letter. */
const PROJECT_KEY = /^[A-Z][A-Z0-9_]{0,19}$/;
/** A JIRA label: no whitespace. */
const LABEL = /^\S+$/;

@InputType()
export class JiraCustomFieldInput {
  @Field({ description: 'A custom field id, e.g. customfield_10010' })
  @Matches(/^customfield_\d{1,10}$/, { message: keyed('validation.jiraCustomFieldId') })
  fieldId: string;

  @Field({ description: 'A constant, or text with {{title}}, {{summary}} or {{documentId}} placeholders' })
  @IsString()
  @MaxLength(1000, { message: keyed('validation.maxLength') })
  value: string;
}

@InputType()
export class CreateJiraConnectionInput {
  @Field({ description: 'Unique within the tenant; 1 to 120 characters' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(120, { message: keyed('validation.maxLength') })
  name: string;

  @Field({ description: 'The JIRA Cloud site, e.g. https://example.atlassian.net (https; public addresses only)' })
  @IsString()
  @MaxLength(2048, { message: keyed('validation.maxLength') })
  baseUrl: string;

  @Field()
  @IsEmail({}, { message: keyed('validation.isEmail') })
  @MaxLength(320, { message: keyed('validation.maxLength') })
  accountEmail: string;

  @Field({ description: "An API token of the account's (stored sealed, never shown again)" })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(1024, { message: keyed('validation.maxLength') })
  apiToken: string;

  @Field()
  @Matches(PROJECT_KEY, { message: keyed('validation.jiraProjectKey') })
  projectKey: string;

  @Field({ description: 'e.g. Task' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(60, { message: keyed('validation.maxLength') })
  issueTypeName: string;

  @Field({ nullable: true, description: 'Issue type of exported comments; default Sub-task' })
  @IsOptional()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(60, { message: keyed('validation.maxLength') })
  subTaskTypeName?: string;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20, { message: keyed('validation.arrayMaxSize') })
  @Matches(LABEL, { each: true, message: keyed('validation.jiraLabel') })
  @MaxLength(100, { each: true, message: keyed('validation.maxLength') })
  labels?: string[];

  @Field(() => [JiraCustomFieldInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20, { message: keyed('validation.arrayMaxSize') })
  @ValidateNested({ each: true })
  @Type(() => JiraCustomFieldInput)
  customFields?: JiraCustomFieldInput[];

  @Field({ nullable: true, description: 'Export comments as sub-tasks of their item; default false' })
  @IsOptional()
  @IsBoolean()
  exportComments?: boolean;
}

/** Any field of a connection; an apiToken replaces the stored one. */
@InputType()
export class UpdateJiraConnectionInput extends PartialType(CreateJiraConnectionInput) {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@InputType()
export class JiraConnectionIdInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@ObjectType()
export class JiraConnectionPayload {
  @Field(() => JiraConnection)
  connection: JiraConnection;
}

@ObjectType()
export class CreateJiraConnectionPayload {
  @Field(() => JiraConnection)
  connection: JiraConnection;

  @Field({ description: 'Where JIRA sends its webhooks, under the public origin: /webhooks/jira/<id>' })
  webhookPath: string;

  @Field({ description: "The webhook secret JIRA signs with (X-Hub-Signature); shown only now" })
  webhookSecret: string;
}

@ObjectType()
export class DeleteJiraConnectionPayload {
  @Field(() => ID)
  deletedConnectionId: string;
}

@ObjectType({ description: 'The JIRA account a connection signs in as' })
export class JiraAccount {
  @Field()
  accountId: string;

  @Field()
  displayName: string;

  @Field(() => String, { nullable: true, description: 'Hidden by JIRA for some privacy settings' })
  emailAddress: string | null;
}

/** One JIRA connection, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class JiraConnectionArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}
