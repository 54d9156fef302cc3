import { Module } from '@nestjs/common';
import { AgentTallyConsumer } from './agent-tally.consumer';
import { AgentsResolver } from './agents.resolver';
import { AgentsService } from './agents.service';

@Module({ providers: [AgentsService, AgentsResolver, AgentTallyConsumer] })
export class AgentsModule {}
