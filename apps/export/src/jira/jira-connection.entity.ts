import { Field, ID, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@ObjectType({ description: 'A value JIRA receives in a custom field of every exported issue' })
export class JiraCustomField {
  @Field({ description: 'e.g. customfield_10010' })
  fieldId: string;

  @Field({ description: 'A constant, or text with {{title}}, {{summary}} or {{documentId}} placeholders' })
  value: string;
}

@ObjectType({ description: "A JIRA Cloud site and project the tenant's exports create issues in" })
@Entity('jira_connections')
export class JiraConnection {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field({ description: 'Unique within the tenant' })
  @Column({ type: 'text' })
  name: string;

  @Field({ description: 'The JIRA site, e.g. https://example.atlassian.net' })
  @Column({ name: 'base_url', type: 'text' })
  baseUrl: string;

  @Field({ description: 'The account the API token belongs to' })
  @Column({ name: 'account_email', type: 'text' })
  accountEmail: string;

  /** The API token, sealed with JIRA_TOKEN_SEAL_KEY; never returned. */
  @Column({ name: 'sealed_api_token', type: 'text' })
  sealedApiToken: string;

  @Field()
  @Column({ name: 'project_key', type: 'text' })
  projectKey: string;

  @Field()
  @Column({ name: 'issue_type_name', type: 'text' })
  issueTypeName: string;

  @Field({ description: 'The issue type comments are exported as (sub-tasks of their item)' })
  @Column({ name: 'sub_task_type_name', type: 'text' })
  subTaskTypeName: string;

  @Field(() => [String], { description: 'Labels every exported issue carries' })
  @Column({ type: 'text', array: true })
  labels: string[];

  /** Field id → constant or placeholder template (see JiraCustomField). */
  @Column({ name: 'custom_fields', type: 'jsonb' })
  customFieldValues: Record<string, string>;

  @Field()
  @Column({ name: 'export_comments', type: 'boolean' })
  exportComments: boolean;

  /** Verifies the JIRA webhook's X-Hub-Signature; sealed, shown in clear only when created. */
  @Column({ name: 'sealed_webhook_secret', type: 'text' })
  sealedWebhookSecret: string;

  @Field(() => Date, { nullable: true, description: 'Last successful call to JIRA' })
  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;

  @Field(() => String, { nullable: true, description: 'What went wrong on the last failed call' })
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'last_error_at', type: 'timestamptz', nullable: true })
  lastErrorAt: Date | null;

  @Field(() => ID, { nullable: true })
  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
