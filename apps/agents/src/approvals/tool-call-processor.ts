import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ChatCompletionMessageToolCall, ChatCompletionToolMessageParam } from 'openai/resources/chat/completions';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG } from '@multipult/config';
import { ApprovalRequested, OutboxWriter } from '@multipult/events';
import { AutoApprove } from '../agents/agent.entity';
import type { AgentsConfig } from '../config';
import { NewRunEvent, RunEvents } from '../runs/run-events';
import { lockRun } from '../runs/task-scheduler';
import type { Claim } from '../runs/task-runner';
import { AgentTool, RiskLevel, ToolInputError } from '../tools/agent-tool';
import { ToolRegistry } from '../tools/tool-registry';
import { WorkspaceFactory } from '../tools/workspace';
import { AgentToolCall, ToolCallStatus } from './tool-call.entity';

export type ToolCallOutcome = { kind: 'answered'; messages: ChatCompletionToolMessageParam[] } | { kind: 'waiting' };

/** A readable one-line form of a call for people deciding on it (notifications, lists). */
export const callSummary = (tool: string, args: unknown) => `${tool} ${JSON.stringify(args)}`.slice(0, 300);

/**
 * Turns the tool calls a model asked for into decisions and outputs: each is stored once (by the
 * model's call id) with its risk; low risk runs at once when the agent allows it, a class approved
 * for the run runs too, and the rest wait for a person. Outputs are stored before the model sees
 * them, so a resumed task answers from the stored call instead of running it again.
 */
@Injectable()
export class ToolCallProcessor {
  private readonly logger = new Logger(ToolCallProcessor.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AgentsConfig,
    private readonly tools: ToolRegistry,
    private readonly workspaces: WorkspaceFactory,
    private readonly events: RunEvents,
    private readonly outbox: OutboxWriter,
  ) {}

  async process(claim: Claim, calls: ChatCompletionMessageToolCall[], signal: AbortSignal): Promise<ToolCallOutcome> {
    const rows: AgentToolCall[] = [];
    for (const call of calls) rows.push(await this.recorded(claim, call));
    for (const row of rows) {
      if (row.status === ToolCallStatus.APPROVED || row.status === ToolCallStatus.RUNNING) Object.assign(row, await this.execute(claim, row, signal));
    }
    if (rows.some((row) => row.status === ToolCallStatus.PENDING_APPROVAL)) return { kind: 'waiting' };
    return { kind: 'answered', messages: rows.map((row) => ({ role: 'tool', tool_call_id: row.callId, content: this.answerOf(row) })) };
  }

  /** The stored call, or a new one with its risk and first decision. */
  private async recorded(claim: Claim, call: ChatCompletionMessageToolCall): Promise<AgentToolCall> {
    const { task, run, settings } = claim;
    const existing = await this.dataSource.getRepository(AgentToolCall).findOneBy({ taskId: task.id, callId: call.id });
    if (existing) return existing;
    const name = call.type === 'function' ? call.function.name : 'unknown';
    const rawArguments = call.type === 'function' ? call.function.arguments : '';
    const tool = settings.tools.includes(name) ? this.tools.get(name) : undefined;
    let args: Record<string, unknown> = {};
    let refusal: string | null = null;
    let risk: RiskLevel = 'high';
    let approvalClass = name;
    try {
      const parsed: unknown = rawArguments.trim() ? JSON.parse(rawArguments) : {};
      args = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
      if (!tool) throw new ToolInputError('unknown_tool', `this agent has no tool named ${name}`);
      const valid = tool.parse(args);
      risk = tool.risk(valid);
      approvalClass = tool.approvalClass(valid);
    } catch (error) {
      refusal = error instanceof ToolInputError ? `${error.reason}: ${error.message}` : error instanceof SyntaxError ? 'invalid_arguments: not JSON' : (error as Error).message;
    }
    return this.dataSource.transaction(async (manager) => {
      await lockRun(manager, run.id);
      const classApproved = refusal === null && (await this.classApproved(manager, run.id, approvalClass));
      const automatic = refusal === null && risk === 'low' && settings.autoApprove === AutoApprove.LOW;
      const status = refusal !== null ? ToolCallStatus.REFUSED : automatic || classApproved ? ToolCallStatus.APPROVED : ToolCallStatus.PENDING_APPROVAL;
      const expiresAt = status === ToolCallStatus.PENDING_APPROVAL ? new Date(Date.now() + this.config.AGENTS_APPROVAL_TIMEOUT_SECONDS * 1000) : null;
      const row = await manager.save(
        manager.create(AgentToolCall, {
          runId: run.id,
          taskId: task.id,
          tenantId: task.tenantId,
          callId: call.id,
          tool: name,
          arguments: args,
          risk,
          approvalClass,
          status,
          output: refusal,
          decidedBy: classApproved ? classApproved : null,
          decidedAt: status === ToolCallStatus.APPROVED ? new Date() : null,
          decisionNote: automatic ? 'auto' : classApproved ? 'class' : null,
          expiresAt,
          warnedAt: null,
          finishedAt: refusal !== null ? new Date() : null,
        }),
      );
      const events: NewRunEvent[] = [{ type: 'tool.call', taskId: task.id, payload: { toolCallId: row.id, tool: name, arguments: args, risk, approvalClass, status } }];
      if (status === ToolCallStatus.PENDING_APPROVAL) {
        events.push({ type: 'approval.requested', taskId: task.id, payload: { toolCallId: row.id, tool: name, arguments: args, risk, approvalClass, status, expiresAt: expiresAt?.toISOString() } });
        await this.outbox.enqueue(manager, ApprovalRequested, {
          aggregateId: row.id,
          tenantId: task.tenantId,
          actorId: run.userId,
          payload: {
            toolCallId: row.id,
            runId: run.id,
            userId: run.userId,
            agentName: settings.name,
            tool: name,
            risk: risk === 'high' ? 'high' : 'medium',
            summary: callSummary(name, args),
            expiresAt: (expiresAt as Date).toISOString(),
          },
        });
      }
      await this.events.append(manager, run.id, events);
      return row;
    }).finally(() => this.events.published(run.id));
  }

  /** The user who approved this class of calls for the run, or false. */
  private async classApproved(manager: EntityManager, runId: string, approvalClass: string): Promise<string | false> {
    const [row] = await manager.query(`SELECT decided_by FROM agent_class_approvals WHERE run_id = $1 AND approval_class = $2`, [runId, approvalClass]);
    return row ? (row.decided_by as string) : false;
  }

  private async execute(claim: Claim, row: AgentToolCall, signal: AbortSignal): Promise<Pick<AgentToolCall, 'status' | 'output'>> {
    const tool = this.tools.get(row.tool) as AgentTool;
    await this.dataSource.query(`UPDATE agent_tool_calls SET status = 'running' WHERE id = $1`, [row.id]);
    let status = ToolCallStatus.COMPLETED;
    let output: string;
    try {
      const workspace = await this.workspaces.forUser(claim.task.tenantId, claim.run.userId);
      const result = await tool.execute(tool.parse(row.arguments), { workspace, signal, tenantId: claim.task.tenantId, userId: claim.run.userId });
      output = result.output;
    } catch (error) {
      signal.throwIfAborted();
      status = error instanceof ToolInputError ? ToolCallStatus.REFUSED : ToolCallStatus.FAILED;
      output = error instanceof ToolInputError ? `${error.reason}: ${error.message}` : (error as Error).message;
      if (status === ToolCallStatus.FAILED) this.logger.warn(`tool ${row.tool} of task ${claim.task.id} failed: ${output}`);
    }
    await this.dataSource.transaction(async (manager) => {
      await lockRun(manager, claim.run.id);
      await manager.query(`UPDATE agent_tool_calls SET status = $2, output = $3, finished_at = now() WHERE id = $1`, [row.id, status, output]);
      await this.events.append(manager, claim.run.id, [
        { type: 'tool.result', taskId: claim.task.id, payload: { toolCallId: row.id, tool: row.tool, status, output: output.slice(0, 4000) } },
      ]);
    });
    await this.events.published(claim.run.id);
    return { status, output };
  }

  private answerOf(row: AgentToolCall): string {
    switch (row.status) {
      case ToolCallStatus.COMPLETED:
        return row.output ?? '';
      case ToolCallStatus.FAILED:
        return `error: ${row.output ?? 'the tool failed'}`;
      case ToolCallStatus.REFUSED:
        return `refused: ${row.output ?? ''}`;
      case ToolCallStatus.REJECTED:
        return `rejected: a person declined this call${row.decisionNote ? ` (${row.decisionNote})` : ''}; do not retry it`;
      case ToolCallStatus.EXPIRED:
        return 'rejected: nobody approved this call in time; do not retry it';
      default:
        return `not run (${row.status})`;
    }
  }
}
