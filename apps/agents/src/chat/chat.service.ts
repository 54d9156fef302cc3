import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BadUserInputError, Connection, ConnectionArgs, KeysetOrder, NotFoundError, paginate } from '@multipult/graphql';
import { AgentsService, Caller } from '../agents/agents.service';
import { AgentRun, RunMode } from '../runs/run.entity';
import { RunsService } from '../runs/runs.service';
import { ChatMessage, ChatRole } from './chat-message.entity';
import { ChatSession } from './chat-session.entity';
import { CreateChatSessionInput, SendChatMessageInput } from './dto';

const RECENT_FIRST = new KeysetOrder({
  connection: 'agents.chat-sessions',
  columns: [
    { expression: 'row.updated_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'row.id', type: 'uuid', direction: 'DESC' },
  ],
});

/**
 * Chat sessions: each message becomes a run (one agent, or the planner's plan), and a session
 * answers its messages one at a time in order: a message sent while the previous one is being
 * answered gets a WAITING_TURN run that starts when that answer is in.
 */
@Injectable()
export class ChatService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly agents: AgentsService,
    private readonly runs: RunsService,
  ) {}

  async create(caller: Caller, input: CreateChatSessionInput): Promise<ChatSession> {
    if (input.agentId) await this.agents.visible(caller, input.agentId);
    const repository = this.dataSource.getRepository(ChatSession);
    return repository.save(
      repository.create({
        tenantId: caller.tenantId,
        userId: caller.principal.userId,
        title: input.title?.trim() || 'New chat',
        agentId: input.agentId ?? null,
        lastSeq: 0,
        summary: null,
        summarizedThrough: 0,
      }),
    );
  }

  async send(caller: Caller, input: SendChatMessageInput): Promise<{ message: ChatMessage; run: AgentRun }> {
    const mode = input.mode ?? RunMode.DIRECT;
    const result = await this.dataSource.transaction(async (manager) => {
      const session = await manager.findOne(ChatSession, { where: { id: input.sessionId, tenantId: caller.tenantId, userId: caller.principal.userId }, lock: { mode: 'pessimistic_write' } });
      if (!session) throw new NotFoundError('chat_session');
      const [{ busy }] = await manager.query(
        `SELECT count(*)::int AS busy FROM agent_runs WHERE session_id = $1 AND status IN ('waiting_turn', 'planning', 'awaiting_approval', 'running')`,
        [session.id],
      );
      session.lastSeq += 1;
      await manager.save(session);
      const turn = { sessionId: session.id, seq: session.lastSeq, waitTurn: busy > 0 };
      let run: AgentRun;
      if (mode === RunMode.DIRECT) {
        const agentId = input.agentId ?? session.agentId;
        if (!agentId) throw BadUserInputError.field('agentId', 'errors.chat_needs_agent');
        run = await this.runs.startDirect(caller, { agentId, prompt: input.content }, turn, manager);
      } else {
        run = await this.runs.requestPlan(caller, { request: input.content, agentIds: input.agentIds, autoStart: true }, turn, manager);
      }
      const message = await manager.save(
        manager.create(ChatMessage, { sessionId: session.id, seq: session.lastSeq, role: ChatRole.USER, content: input.content, runId: run.id }),
      );
      return { message, run };
    });
    await this.runs.published(result.run.id);
    return result;
  }

  async visible(caller: Caller, id: string): Promise<ChatSession> {
    const session = await this.dataSource.getRepository(ChatSession).findOneBy({ id, tenantId: caller.tenantId, userId: caller.principal.userId });
    if (!session) throw new NotFoundError('chat_session');
    return session;
  }

  list(caller: Caller, args: ConnectionArgs): Promise<Connection<ChatSession>> {
    const query = this.dataSource
      .getRepository(ChatSession)
      .createQueryBuilder('row')
      .where('row.tenant_id = :tenantId AND row.user_id = :userId', { tenantId: caller.tenantId, userId: caller.principal.userId });
    return paginate(query, RECENT_FIRST, args, { scope: `${caller.tenantId}:${caller.principal.userId}` });
  }

  messages(sessionId: string, afterSeq: number, first: number): Promise<ChatMessage[]> {
    return this.dataSource
      .getRepository(ChatMessage)
      .createQueryBuilder('message')
      .where('message.session_id = :sessionId AND message.seq > :afterSeq', { sessionId, afterSeq })
      .orderBy('message.seq', 'ASC')
      .take(first)
      .getMany();
  }

  /** Deletes the session with its messages and runs (their events and tool calls go with them). */
  async remove(caller: Caller, id: string): Promise<boolean> {
    const session = await this.visible(caller, id);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE agent_runs SET status = 'cancelled', finished_at = coalesce(finished_at, now()) WHERE session_id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')`, [
        session.id,
      ]);
      await manager.query(`UPDATE agent_tasks SET status = 'cancelled' WHERE run_id IN (SELECT id FROM agent_runs WHERE session_id = $1) AND status NOT IN ('completed', 'failed', 'cancelled', 'skipped')`, [
        session.id,
      ]);
      await manager.delete(ChatSession, { id: session.id });
    });
    return true;
  }
}
