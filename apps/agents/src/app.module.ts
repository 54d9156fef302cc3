import { DynamicModule, Module } from '@nestjs/common';
import { RealtimeServerModule } from '@multipult/realtime';
import { SubgraphModule } from '@multipult/subgraph';
import type { AgentsConfig } from './config';
import { AgentVersion } from './agents/agent-version.entity';
import { Agent } from './agents/agent.entity';
import { AgentsModule } from './agents/agents.module';
import { AgentToolCall } from './approvals/tool-call.entity';
import { ChatMessage } from './chat/chat-message.entity';
import { ChatSession } from './chat/chat-session.entity';
import { ChatModule } from './chat/chat.module';
import { registerAgentsMessages } from './messages';
import { AgentMemory } from './memory/memory.entity';
import { MemoryModule } from './memory/memory.module';
import { agentsMigrations } from './migrations';
import { PrivacyModule } from './privacy/privacy.module';
import { ModelsModule } from './models/models.module';
import { AgentModelCall } from './runs/model-call.entity';
import { RunEvent } from './runs/run-event.entity';
import { AgentRun } from './runs/run.entity';
import { RunsModule } from './runs/runs.module';
import { AgentTask } from './runs/task.entity';
import { ToolsModule } from './tools/tools.module';

@Module({})
export class AppModule {
  static forRoot(config: AgentsConfig): DynamicModule {
    registerAgentsMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({
          service: 'agents',
          config,
          entities: [Agent, AgentVersion, AgentRun, AgentTask, AgentToolCall, AgentModelCall, RunEvent, ChatSession, ChatMessage, AgentMemory],
          migrations: agentsMigrations,
          redis: { pubSub: true },
        }),
        ModelsModule,
        ToolsModule.forRoot(),
        AgentsModule,
        RunsModule,
        ChatModule,
        MemoryModule,
        PrivacyModule,
        RealtimeServerModule.forRoot(),
      ],
    };
  }
}
