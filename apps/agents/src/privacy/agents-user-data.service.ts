import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ERASED_USER_ID, PrivacyParticipant } from '@multipult/events';

export const AGENTS_PRIVACY_SERVICE = 'agents';

type Rows<T> = [T[], number];

/**
 * The agents service's part of the GDPR sagas. Everything here is the user's alone: their agents
 * (with versions), runs (with tasks, tool calls, model calls and events), chat sessions and every
 * memory any agent holds of them. Erasure deletes it all; export collects it without embeddings.
 */
@Injectable()
export class AgentsUserDataService implements OnApplicationBootstrap {
  constructor(private readonly participant: PrivacyParticipant) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.participant.start({
      service: AGENTS_PRIVACY_SERVICE,
      erase: (manager, userId) => this.erase(manager, userId),
      collect: (manager, userId) => this.collect(manager, userId),
    });
  }

  async erase(manager: EntityManager, userId: string): Promise<Record<string, number>> {
    const [, memories]: Rows<unknown> = await manager.query('DELETE FROM agent_memories WHERE user_id = $1', [userId]);
    const [, sessions]: Rows<unknown> = await manager.query('DELETE FROM agent_chat_sessions WHERE user_id = $1', [userId]);
    // Runs on the user's agents by others (managers) go too: their tasks reference the agents.
    const [, runs]: Rows<unknown> = await manager.query(
      'DELETE FROM agent_runs WHERE user_id = $1 OR id IN (SELECT run_id FROM agent_tasks WHERE agent_id IN (SELECT id FROM agents WHERE owner_id = $1))',
      [userId],
    );
    await manager.query('DELETE FROM agent_model_calls WHERE agent_id IN (SELECT id FROM agents WHERE owner_id = $1)', [userId]);
    const [, agents]: Rows<unknown> = await manager.query('DELETE FROM agents WHERE owner_id = $1', [userId]);
    await manager.query('UPDATE agent_tool_calls SET decided_by = NULL WHERE decided_by = $1', [userId]);
    await manager.query('UPDATE agent_versions SET created_by = $2 WHERE created_by = $1', [userId, ERASED_USER_ID]);
    await manager.query('DELETE FROM agent_class_approvals WHERE decided_by = $1', [userId]);
    return { agents, runs, chatSessions: sessions, memories };
  }

  async collect(manager: EntityManager, userId: string): Promise<Record<string, unknown>> {
    const agents = await manager.query(
      `SELECT id, tenant_id AS "tenantId", name, description, system_prompt AS "systemPrompt", model, tools, version, created_at AS "createdAt" FROM agents WHERE owner_id = $1 ORDER BY created_at`,
      [userId],
    );
    const runs = await manager.query(
      `SELECT id, tenant_id AS "tenantId", mode, request, status, result, error, cost_usd AS "costUsd", created_at AS "createdAt" FROM agent_runs WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
    const chatSessions = await manager.query(
      `SELECT s.id, s.tenant_id AS "tenantId", s.title, s.summary, s.created_at AS "createdAt",
              coalesce(json_agg(json_build_object('seq', m.seq, 'role', m.role, 'content', m.content, 'createdAt', m.created_at) ORDER BY m.seq) FILTER (WHERE m.id IS NOT NULL), '[]') AS messages
         FROM agent_chat_sessions s LEFT JOIN agent_chat_messages m ON m.session_id = s.id
        WHERE s.user_id = $1 GROUP BY s.id ORDER BY s.created_at`,
      [userId],
    );
    const memories = await manager.query(
      `SELECT id, tenant_id AS "tenantId", agent_id AS "agentId", content, metadata, created_at AS "createdAt" FROM agent_memories WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
    return { agents, runs, chatSessions, memories };
  }
}
