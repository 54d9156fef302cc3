import { DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@multipult/subgraph';
import type { AgentsConfig } from './config';
import { Agent } from './agents/agent.entity';
import { AgentsModule } from './agents/agents.module';
import { registerAgentsMessages } from './messages';
import { agentsMigrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: AgentsConfig): DynamicModule {
    registerAgentsMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({ service: 'agents', config, entities: [Agent], migrations: agentsMigrations }),
        AgentsModule,
      ],
    };
  }
}
