import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { RunsModule } from '../runs/runs.module';
import { ChatResolver } from './chat.resolver';
import { ChatService } from './chat.service';

@Module({ imports: [AgentsModule, RunsModule], providers: [ChatService, ChatResolver] })
export class ChatModule {}
