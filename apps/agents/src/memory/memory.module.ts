import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { RunsModule } from '../runs/runs.module';
import { MemoryResolver } from './memory.resolver';

/** The memory API; the store itself is provided with runs, whose tasks recall and record memories. */
@Module({ imports: [AgentsModule, RunsModule], providers: [MemoryResolver] })
export class MemoryModule {}
