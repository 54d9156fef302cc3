import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '@multipult/config';
import { ConflictError } from '@multipult/graphql';
import { JobQueue, RunningJob } from '@multipult/jobs';
import type { AgentsConfig } from '../config';
import { ModelGateway } from '../models/model-gateway';
import { AgentMemory, AgentMemoryMatch } from './memory.entity';

/** The durable job that turns a completed task into a memory of its agent. */
export const MEMORY_QUEUE = 'agents.memory-write';

/** How much of a prompt and of an answer a memory keeps. */
const MEMORY_PART_CHARS = 2_000;

export interface MemoryQuery {
  tenantId: string;
  agentId: string;
  /** Only this member's memories (an agent's memories of other members never reach them). */
  userId: string;
  query?: string;
  /** Memories whose metadata contains all of these keys and values. */
  filter?: Record<string, unknown>;
  limit: number;
}

const unit = (vector: number[]) => {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm > 0 ? vector.map((value) => value / norm) : vector;
};

/**
 * Agents' memories: stored with unit-length embeddings of the deployment's embeddings model, and
 * found by cosine similarity, exactly (no approximate index): with pgvector's `<=>` when the
 * database has the extension, otherwise as a dot product in SQL over the agent's and member's rows.
 * Which one runs is logged at start.
 */
@Injectable()
export class MemoryStore implements OnModuleInit {
  private readonly logger = new Logger(MemoryStore.name);
  private pgvector = false;
  private readonly configuredEmbeddingModel: string | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AgentsConfig,
    private readonly models: ModelGateway,
    private readonly jobs: JobQueue,
  ) {
    const model = config.AGENTS_EMBEDDING_MODEL ?? models.defaultEmbeddingModel();
    try {
      models.resolve(model);
      this.configuredEmbeddingModel = model;
    } catch {
      this.configuredEmbeddingModel = undefined;
    }
  }

  async onModuleInit(): Promise<void> {
    const [installed] = await this.dataSource.query(`SELECT 1 AS found FROM pg_extension WHERE extname = 'vector'`);
    this.pgvector = Boolean(installed);
    this.logger.log(
      this.pgvector
        ? `memory search: exact cosine with pgvector (<=>), embeddings from ${this.embeddingModel ?? 'nowhere'}`
        : `memory search: exact cosine in SQL (pgvector is not installed in this database), embeddings from ${this.embeddingModel ?? 'nowhere: memory is off'}`,
    );
    await this.jobs.define<{ taskId: string }>({ name: MEMORY_QUEUE, handler: (job) => this.rememberTask(job), retryLimit: 5, retryDelaySeconds: 2 });
  }

  /** The embeddings model in use: AGENTS_EMBEDDING_MODEL, or the deployment's first; none means memory is off. */
  get embeddingModel(): string | undefined {
    return this.configuredEmbeddingModel;
  }

  async remember(input: { tenantId: string; agentId: string; userId: string; content: string; metadata: Record<string, unknown>; taskId?: string }): Promise<AgentMemory> {
    const model = this.requireModel();
    const { vectors } = await this.models.embed(model, [input.content]);
    const repository = this.dataSource.getRepository(AgentMemory);
    return repository.save(repository.create({ ...input, taskId: input.taskId ?? null, embeddingModel: model, embedding: unit(vectors[0]) }));
  }

  /** The closest memories to the query (or the newest, without one) that match the filter. */
  async search(query: MemoryQuery): Promise<AgentMemoryMatch[]> {
    const model = this.embeddingModel;
    const filter = JSON.stringify(query.filter ?? {});
    if (!query.query || !model) {
      const rows = await this.dataSource
        .getRepository(AgentMemory)
        .createQueryBuilder('memory')
        .where('memory.tenant_id = :tenantId AND memory.agent_id = :agentId AND memory.user_id = :userId AND memory.metadata @> :filter::jsonb', { ...query, filter })
        .orderBy('memory.created_at', 'DESC')
        .addOrderBy('memory.id', 'DESC')
        .take(query.limit)
        .getMany();
      return rows.map((memory) => ({ memory, score: null }));
    }
    const { vectors } = await this.models.embed(model, [query.query]);
    const probe = unit(vectors[0]);
    const score = this.pgvector
      ? `1 - (m.embedding::vector <=> $6::real[]::vector)`
      : `(SELECT sum(a * b) FROM unnest(m.embedding, $6::real[]) AS pairs(a, b))`;
    const rows: (AgentMemory & { score: number })[] = await this.dataSource.query(
      `SELECT m.id, m.tenant_id AS "tenantId", m.agent_id AS "agentId", m.user_id AS "userId", m.content, m.metadata,
              m.embedding_model AS "embeddingModel", m.task_id AS "taskId", m.created_at AS "createdAt", ${score} AS score
         FROM agent_memories m
        WHERE m.tenant_id = $1 AND m.agent_id = $2 AND m.user_id = $3 AND m.embedding_model = $4 AND m.metadata @> $5::jsonb
        ORDER BY score DESC, m.created_at DESC
        LIMIT $7`,
      [query.tenantId, query.agentId, query.userId, model, filter, probe, query.limit],
    );
    return rows.map(({ score: similarity, ...memory }) => ({ memory: Object.assign(new AgentMemory(), memory), score: Number(similarity) }));
  }

  /** Deletes a member's memories of an agent older than a number of days and/or beyond the newest `keepLatest`. */
  async prune(tenantId: string, agentId: string, userId: string, rule: { olderThanDays?: number; keepLatest?: number }): Promise<number> {
    const [, removed] = await this.dataSource.query(
      `DELETE FROM agent_memories m WHERE m.tenant_id = $1 AND m.agent_id = $2 AND m.user_id = $3
         AND (($4::int IS NOT NULL AND m.created_at < now() - make_interval(days => $4::int))
           OR ($5::int IS NOT NULL AND m.id NOT IN (
                SELECT id FROM agent_memories WHERE tenant_id = $1 AND agent_id = $2 AND user_id = $3 ORDER BY created_at DESC, id DESC LIMIT $5::int)))`,
      [tenantId, agentId, userId, rule.olderThanDays ?? null, rule.keepLatest ?? null],
    );
    return Number(removed);
  }

  async forget(tenantId: string, userId: string, id: string): Promise<boolean> {
    const [, removed] = await this.dataSource.query(`DELETE FROM agent_memories WHERE id = $1 AND tenant_id = $2 AND user_id = $3`, [id, tenantId, userId]);
    return Number(removed) > 0;
  }

  /** A member's memories of an agent, oldest first, without embeddings: what "export my agent's memory" gives. */
  export(tenantId: string, agentId: string, userId: string): Promise<AgentMemory[]> {
    return this.dataSource.getRepository(AgentMemory).find({
      where: { tenantId, agentId, userId },
      order: { createdAt: 'ASC', id: 'ASC' },
      select: { id: true, agentId: true, userId: true, content: true, metadata: true, embeddingModel: true, taskId: true, createdAt: true },
    });
  }

  /** A completed task, as a memory of its agent about the member whose run it was (once per task). */
  private async rememberTask(job: RunningJob<{ taskId: string }>): Promise<void> {
    if (!this.embeddingModel) return;
    const [task] = await this.dataSource.query(
      `SELECT t.id, t.tenant_id, t.agent_id, t.prompt, t.result, r.user_id, r.id AS run_id
         FROM agent_tasks t JOIN agent_runs r ON r.id = t.run_id
        WHERE t.id = $1 AND t.status = 'completed' AND NOT EXISTS (SELECT 1 FROM agent_memories m WHERE m.task_id = t.id)`,
      [job.data.taskId],
    );
    if (!task) return;
    await this.remember({
      tenantId: task.tenant_id,
      agentId: task.agent_id,
      userId: task.user_id,
      content: `Asked: ${String(task.prompt).slice(0, MEMORY_PART_CHARS)}\nAnswered: ${String(task.result ?? '').slice(0, MEMORY_PART_CHARS)}`,
      metadata: { kind: 'interaction', runId: task.run_id },
      taskId: task.id,
    }).catch((error: Error & { code?: string }) => {
      // A redelivered job lost the race to its twin: the memory exists.
      if (error.code !== '23505' && (error as { driverError?: { code?: string } }).driverError?.code !== '23505') throw error;
    });
  }

  private requireModel(): string {
    const model = this.embeddingModel;
    if (!model) throw new ConflictError('errors.memory_unavailable');
    return model;
  }
}
