import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { DataSource } from 'typeorm';
import { ModelGateway } from '../models/model-gateway';
import { estimateTokens } from '../models/scripted-model';
import { AgentModelCall } from '../runs/model-call.entity';
import type { AgentRun } from '../runs/run.entity';
import { ChatRole } from './chat-message.entity';
import { ChatSession } from './chat-session.entity';

/** A message of an earlier turn of the session. */
interface TurnMessage {
  role: ChatRole;
  content: string;
  turn: number;
}

/** The share of the model's context window a turn may give to earlier messages. */
const HISTORY_SHARE = 0.5;

/**
 * The earlier turns of a chat session as a model sees them: the most recent messages that fit
 * the history budget, with everything older folded into the session's running summary (written by
 * the same model, once per stretch of turns, and kept on the session for the next turns).
 */
@Injectable()
export class Conversation {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly models: ModelGateway,
  ) {}

  async historyFor(run: AgentRun, agentId: string, model: string, signal?: AbortSignal): Promise<ChatCompletionMessageParam[]> {
    if (!run.sessionId || run.sessionSeq === null) return [];
    const session = await this.dataSource.getRepository(ChatSession).findOneByOrFail({ id: run.sessionId });
    const earlier = await this.turnsBefore(run.sessionId, run.sessionSeq);
    const budget = Math.floor(this.models.resolve(model).spec.contextTokens * HISTORY_SHARE) - estimateTokens(run.request.length);
    const recent: TurnMessage[] = [];
    let used = estimateTokens((session.summary ?? '').length);
    for (const message of [...earlier].reverse()) {
      if (message.turn <= session.summarizedThrough) break;
      const cost = estimateTokens(message.content.length);
      if (used + cost > budget) break;
      recent.unshift(message);
      used += cost;
    }
    const firstRecent = recent[0]?.turn ?? run.sessionSeq;
    const unsummarised = earlier.filter((message) => message.turn > session.summarizedThrough && message.turn < firstRecent);
    const summary = unsummarised.length ? await this.summarise(session, unsummarised, run, agentId, model, signal) : session.summary;
    return [
      ...(summary ? [{ role: 'system' as const, content: `Summary of the earlier conversation:\n${summary}` }] : []),
      ...recent.map((message) => ({ role: message.role === ChatRole.USER ? ('user' as const) : ('assistant' as const), content: message.content })),
    ];
  }

  /** Folds older messages into the session's summary; concurrent turns are serialised, so the last writer has seen the most. */
  /**
   * The session's messages of earlier turns, each question followed by its answer. A turn is the
   * seq of its question; an answer belongs to the turn of the run that gave it, so a question sent
   * while the previous one was being answered still sees that answer.
   */
  private async turnsBefore(sessionId: string, turn: number): Promise<TurnMessage[]> {
    const rows: { role: ChatRole; content: string; turn: number }[] = await this.dataSource.query(
      `SELECT m.role, m.content, coalesce(r.session_seq, m.seq) AS turn
         FROM agent_chat_messages m LEFT JOIN agent_runs r ON r.id = m.run_id
        WHERE m.session_id = $1 AND coalesce(r.session_seq, m.seq) < $2
        ORDER BY turn, m.role = 'assistant', m.seq`,
      [sessionId, turn],
    );
    return rows;
  }

  private async summarise(session: ChatSession, messages: TurnMessage[], run: AgentRun, agentId: string, model: string, signal?: AbortSignal): Promise<string> {
    const transcript = messages.map((message) => `${message.role}: ${message.content}`).join('\n');
    const answer = await this.models.chat({
      model,
      signal,
      maxTokens: 512,
      messages: [
        { role: 'system', content: 'Summarise the conversation below for your own later use: keep facts, names, decisions and open questions; be brief.' },
        { role: 'user', content: session.summary ? `Summary so far:\n${session.summary}\n\nThen:\n${transcript}` : transcript },
      ],
    });
    const summary = (answer.content ?? '').trim() || transcript.slice(-2000);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE agent_chat_sessions SET summary = $2, summarized_through = greatest(summarized_through, $3) WHERE id = $1`, [
        session.id,
        summary,
        messages[messages.length - 1].turn,
      ]);
      await manager.insert(AgentModelCall, {
        tenantId: run.tenantId,
        agentId,
        runId: run.id,
        taskId: null,
        model: answer.model,
        promptTokens: answer.usage.promptTokens,
        completionTokens: answer.usage.completionTokens,
        costUsd: answer.usage.costUsd,
        latencyMs: Math.round(answer.latencyMs),
      });
    });
    return summary;
  }
}
