import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents and their versions; chat sessions and their messages; memories (embeddings as real[],
 * searched by cosine similarity); runs, their tasks (a DAG by task key), the tool calls tasks make (with
 * the approval history), model calls (token and cost accounting), and each run's event log, whose
 * per-run sequence is taken from the run row so events commit in sequence order.
 */
export class CreateAgentsSchema1796249074552 implements MigrationInterface {
  name = 'CreateAgentsSchema1796249074552';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        version integer NOT NULL DEFAULT 1,
        system_prompt text NOT NULL DEFAULT '',
        model text NOT NULL,
        tools text[] NOT NULL DEFAULT '{}',
        concurrency_limit integer NOT NULL DEFAULT 2,
        auto_approve text NOT NULL DEFAULT 'low',
        token_budget_per_run integer,
        cost_budget_usd numeric(14, 6),
        max_output_tokens integer NOT NULL DEFAULT 1024,
        status text NOT NULL DEFAULT 'ready',
        last_error text,
        archived_at timestamptz,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX agents_owner_name_key ON agents (tenant_id, owner_id, lower(name)) WHERE archived_at IS NULL;
      CREATE INDEX agents_tenant_newest_idx ON agents (tenant_id, created_at DESC, id DESC);

      CREATE TABLE agent_versions (
        agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        version integer NOT NULL,
        config jsonb NOT NULL,
        created_by uuid NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (agent_id, version)
      );

      CREATE TABLE agent_chat_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        title text NOT NULL,
        agent_id uuid REFERENCES agents (id) ON DELETE SET NULL,
        last_seq integer NOT NULL DEFAULT 0,
        summary text,
        summarized_through integer NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE INDEX agent_chat_sessions_user_idx ON agent_chat_sessions (tenant_id, user_id, updated_at DESC, id DESC);

      CREATE TABLE agent_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        session_id uuid REFERENCES agent_chat_sessions (id) ON DELETE CASCADE,
        session_seq integer,
        mode text NOT NULL,
        request text NOT NULL,
        status text NOT NULL,
        planner_model text,
        candidate_agent_ids uuid[] NOT NULL DEFAULT '{}',
        auto_start boolean NOT NULL DEFAULT false,
        plan_version integer NOT NULL DEFAULT 0,
        last_seq bigint NOT NULL DEFAULT 0,
        result text,
        error text,
        prompt_tokens bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        cost_usd numeric(14, 6) NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3),
        finished_at timestamptz(3)
      );
      CREATE INDEX agent_runs_user_newest_idx ON agent_runs (tenant_id, user_id, created_at DESC, id DESC);
      CREATE INDEX agent_runs_tenant_newest_idx ON agent_runs (tenant_id, created_at DESC, id DESC);
      CREATE INDEX agent_runs_session_idx ON agent_runs (session_id, session_seq) WHERE session_id IS NOT NULL;

      CREATE TABLE agent_chat_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES agent_chat_sessions (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        role text NOT NULL,
        content text NOT NULL,
        run_id uuid REFERENCES agent_runs (id) ON DELETE SET NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT agent_chat_messages_session_seq_key UNIQUE (session_id, seq)
      );

      CREATE TABLE agent_memories (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        content text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        embedding_model text NOT NULL,
        embedding real[] NOT NULL,
        task_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX agent_memories_task_key ON agent_memories (task_id) WHERE task_id IS NOT NULL;
      CREATE INDEX agent_memories_agent_idx ON agent_memories (agent_id, created_at DESC);
      CREATE INDEX agent_memories_user_idx ON agent_memories (user_id);
      CREATE INDEX agent_memories_metadata_idx ON agent_memories USING gin (metadata jsonb_path_ops);

      CREATE TABLE agent_tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        key text NOT NULL,
        title text NOT NULL,
        prompt text NOT NULL,
        agent_id uuid NOT NULL REFERENCES agents (id),
        agent_version integer NOT NULL,
        depends_on text[] NOT NULL DEFAULT '{}',
        status text NOT NULL,
        attempt integer NOT NULL DEFAULT 0,
        transcript jsonb NOT NULL DEFAULT '[]',
        turns integer NOT NULL DEFAULT 0,
        result text,
        error text,
        estimated_tokens integer NOT NULL DEFAULT 0,
        estimated_cost_usd numeric(14, 6) NOT NULL DEFAULT 0,
        estimated_ms integer NOT NULL DEFAULT 0,
        prompt_tokens bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        cost_usd numeric(14, 6) NOT NULL DEFAULT 0,
        lease_owner uuid,
        lease_until timestamptz,
        not_before timestamptz,
        queued_at timestamptz(3),
        started_at timestamptz(3),
        finished_at timestamptz(3),
        CONSTRAINT agent_tasks_run_key_key UNIQUE (run_id, key)
      );
      CREATE INDEX agent_tasks_agent_active_idx ON agent_tasks (agent_id, queued_at) WHERE status IN ('queued', 'running');
      CREATE INDEX agent_tasks_agent_idx ON agent_tasks (agent_id, finished_at);

      CREATE TABLE agent_tool_calls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
        task_id uuid NOT NULL REFERENCES agent_tasks (id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        call_id text NOT NULL,
        tool text NOT NULL,
        arguments jsonb NOT NULL,
        risk text NOT NULL,
        approval_class text NOT NULL,
        status text NOT NULL,
        output text,
        decided_by uuid,
        decided_at timestamptz(3),
        decision_note text,
        expires_at timestamptz,
        warned_at timestamptz,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz(3),
        CONSTRAINT agent_tool_calls_task_call_key UNIQUE (task_id, call_id)
      );
      CREATE INDEX agent_tool_calls_pending_idx ON agent_tool_calls (expires_at) WHERE status = 'pending_approval';
      CREATE INDEX agent_tool_calls_run_idx ON agent_tool_calls (run_id, created_at);

      CREATE TABLE agent_class_approvals (
        run_id uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
        approval_class text NOT NULL,
        decided_by uuid NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, approval_class)
      );

      CREATE TABLE agent_model_calls (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        agent_id uuid NOT NULL,
        run_id uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
        task_id uuid,
        model text NOT NULL,
        prompt_tokens integer NOT NULL,
        completion_tokens integer NOT NULL,
        cost_usd numeric(14, 6) NOT NULL,
        latency_ms integer NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE INDEX agent_model_calls_agent_idx ON agent_model_calls (agent_id, created_at);
      CREATE INDEX agent_model_calls_run_idx ON agent_model_calls (run_id);

      CREATE TABLE agent_run_events (
        run_id uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        type text NOT NULL,
        task_id uuid,
        payload jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (run_id, seq)
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE agent_memories;
      DROP TABLE agent_chat_messages;
      DROP TABLE agent_run_events;
      DROP TABLE agent_model_calls;
      DROP TABLE agent_class_approvals;
      DROP TABLE agent_tool_calls;
      DROP TABLE agent_tasks;
      DROP TABLE agent_runs;
      DROP TABLE agent_chat_sessions;
      DROP TABLE agent_versions;
      DROP TABLE agents;
    `);
  }
}
