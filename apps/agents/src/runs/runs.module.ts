import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ApprovalsResolver } from '../approvals/approvals.resolver';
import { ApprovalsService } from '../approvals/approvals.service';
import { ToolCallProcessor } from '../approvals/tool-call-processor';
import { Conversation } from '../chat/conversation';
import { MemoryStore } from '../memory/memory-store';
import { Planner } from './planner';
import { RunEvents } from './run-events';
import { RunEventsController } from './run-events.controller';
import { RunsResolver } from './runs.resolver';
import { RunsService } from './runs.service';
import { TaskRecovery } from './task-recovery';
import { TaskRunner } from './task-runner';
import { TaskScheduler } from './task-scheduler';

/**
 * Runs and the approvals of their tool calls: one module, because a task waits on decisions and a
 * decision resumes its task (the approvals files live in approvals/). A chat turn's history
 * (chat/conversation) and the agent's memories (memory/memory-store) are read by its task, so
 * they are provided here too.
 */
@Module({
  imports: [AgentsModule],
  controllers: [RunEventsController],
  providers: [Conversation, MemoryStore, RunEvents, TaskScheduler, RunsService, Planner, TaskRunner, TaskRecovery, RunsResolver, ToolCallProcessor, ApprovalsService, ApprovalsResolver],
  exports: [RunsService, RunEvents, MemoryStore],
})
export class RunsModule {}
