import { Args, Field, Mutation, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import {
  CreateJiraConnectionInput,
  CreateJiraConnectionPayload,
  DeleteJiraConnectionPayload,
  JiraAccount,
  JiraConnectionArgs,
  JiraConnectionIdInput,
  JiraConnectionPayload,
  UpdateJiraConnectionInput,
} from './dto';
import { JiraConnection, JiraCustomField } from './jira-connection.entity';
import { JiraConnectionsService, jiraWebhookPath } from './jira-connections.service';

@ObjectType()
export class TestJiraConnectionPayload {
  @Field(() => JiraConnection, { description: 'With lastSuccessAt or lastError updated' })
  connection: JiraConnection;

  @Field(() => JiraAccount, { nullable: true, description: 'The account JIRA signed in; null when it refused' })
  account: JiraAccount | null;

  @Field(() => String, { nullable: true, description: "JIRA's answer when the sign-in failed" })
  error: string | null;
}

@Resolver(() => JiraConnection)
export class JiraConnectionsResolver {
  constructor(private readonly connections: JiraConnectionsService) {}

  @RequirePermissions('jira:connections')
  @Query(() => [JiraConnection], { description: "The tenant's JIRA connections, oldest first" })
  jiraConnections(@CurrentTenant() tenantId: string): Promise<JiraConnection[]> {
    return this.connections.list(tenantId);
  }

  @RequirePermissions('jira:connections')
  @Query(() => JiraConnection, { description: "One of the tenant's JIRA connections" })
  jiraConnection(@CurrentTenant() tenantId: string, @Args() { id }: JiraConnectionArgs): Promise<JiraConnection> {
    return this.connections.get(tenantId, id);
  }

  @RequirePermissions('jira:connections')
  @Mutation(() => CreateJiraConnectionPayload)
  async createJiraConnection(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: CreateJiraConnectionInput,
  ): Promise<CreateJiraConnectionPayload> {
    const { connection, webhookSecret } = await this.connections.create(tenantId, principal.userId, input);
    return { connection, webhookPath: jiraWebhookPath(connection.id), webhookSecret };
  }

  @RequirePermissions('jira:connections')
  @Mutation(() => JiraConnectionPayload)
  async updateJiraConnection(@CurrentTenant() tenantId: string, @Args('input') input: UpdateJiraConnectionInput): Promise<JiraConnectionPayload> {
    return { connection: await this.connections.update(tenantId, input) };
  }

  @RequirePermissions('jira:connections')
  @Mutation(() => DeleteJiraConnectionPayload, { description: 'Its issue links go with it; the issues stay in JIRA' })
  async deleteJiraConnection(@CurrentTenant() tenantId: string, @Args('input') input: JiraConnectionIdInput): Promise<DeleteJiraConnectionPayload> {
    return { deletedConnectionId: await this.connections.delete(tenantId, input.id) };
  }

  @RequirePermissions('jira:connections')
  @Mutation(() => TestJiraConnectionPayload, { description: 'Signs in to JIRA as the connection does and records the outcome' })
  testJiraConnection(@CurrentTenant() tenantId: string, @Args('input') input: JiraConnectionIdInput): Promise<TestJiraConnectionPayload> {
    return this.connections.test(tenantId, input.id);
  }

  @ResolveField(() => [JiraCustomField])
  customFields(@Parent() connection: JiraConnection): JiraCustomField[] {
    return Object.entries(connection.customFieldValues).map(([fieldId, value]) => ({ fieldId, value }));
  }

  @ResolveField(() => String, { description: 'Where JIRA sends its webhooks, under the public origin' })
  webhookPath(@Parent() connection: JiraConnection): string {
    return jiraWebhookPath(connection.id);
  }
}
