// The graphql-ws side of the schema-driven fuzz: a socket that records every message of each
// subscription, keeps within the server's message limits, and checks it still answers.
import { randomUUID } from 'node:crypto';
import { GraphQLErrorBody, RealtimeClient, connectRealtime, eventually } from '@multipult/testing';
import { verdictOf } from './schema-fuzz';

/** @multipult/realtime's REALTIME_MAX_MESSAGE_BYTES default: a bigger message closes the socket with 1009. */
export const MAX_MESSAGE_BYTES = 16_384;
/** Under REALTIME_MAX_MESSAGES_PER_SECOND (20 a second, then 1008), counting connection_init and completes. */
const MESSAGES_PER_SECOND = 15;
/** How long a socket may take to answer a subscription that answers at once, or to close. */
const ANSWER_TIMEOUT_MS = 10_000;

export interface SocketClose {
  code: number;
  reason: string;
}

/** One message the server sent for a subscription (`closed` stands for the socket closing under it). */
export type SocketAnswer =
  | { kind: 'next'; result: { data?: unknown; errors?: GraphQLErrorBody[] } }
  | { kind: 'error'; errors: GraphQLErrorBody[] }
  | { kind: 'complete' }
  | { kind: 'closed'; code: number }
  | { kind: 'client'; message: string };

export interface SocketSubscription {
  answers: SocketAnswer[];
  /** The subscribe message's size in bytes, and whether it is past MAX_MESSAGE_BYTES. */
  bytes: number;
  tooBig: boolean;
  stop(): void;
}

export class FuzzSocket {
  private readonly realtime: RealtimeClient;
  private closedAs?: SocketClose;
  private readonly sentAt: number[] = [Date.now()];

  constructor(url: string, connectionParams: Record<string, unknown>) {
    this.realtime = connectRealtime(url, connectionParams);
    void this.realtime.closed.then((closed) => (this.closedAs = closed));
  }

  /** Subscribes, recording each message; waits first if the socket would pass its message rate. */
  async subscribe(query: string, variables?: Record<string, unknown>, operationName: { operationName?: string | null } = {}): Promise<SocketSubscription> {
    await this.pace();
    const payload = { query, variables, ...operationName };
    const bytes = Buffer.byteLength(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload }));
    const answers: SocketAnswer[] = [];
    const stop = this.realtime.client.subscribe(payload, {
      next: (result) => answers.push({ kind: 'next', result: result as { data?: unknown; errors?: GraphQLErrorBody[] } }),
      error: (error: unknown) => answers.push(answerOfError(error)),
      complete: () => answers.push({ kind: 'complete' }),
    });
    return { answers, bytes, tooBig: bytes > MAX_MESSAGE_BYTES, stop };
  }

  /**
   * Subscribes with a well-formed operation that answers at once and waits for its first answer:
   * `data`, or a NOT_FOUND error. A problem when the socket closed, stayed silent or answered otherwise.
   */
  async probe(query: string, variables: Record<string, unknown> | undefined, expected: 'data' | 'NOT_FOUND'): Promise<{ problem?: string; closed?: SocketClose }> {
    const probe = await this.subscribe(query, variables);
    const first = await eventually('an answer to a well-formed subscription', () => (this.closedAs ? 'closed' : probe.answers[0]), ANSWER_TIMEOUT_MS).catch(() => undefined);
    if (this.closedAs) return { problem: `closed with ${this.closedAs.code} ${this.closedAs.reason}`, closed: this.closedAs };
    if (first === undefined) return { problem: `answered no well-formed subscription (${query}) within ${ANSWER_TIMEOUT_MS} ms` };
    const answer = first as SocketAnswer;
    if (!probe.answers.some((each) => each.kind === 'complete')) {
      await this.pace();
      probe.stop();
    }
    const codes = answer.kind === 'next' ? (answer.result.errors ?? []).map((error) => error.extensions?.code) : answer.kind === 'error' ? answer.errors.map((error) => error.extensions?.code) : [];
    const accepted =
      expected === 'data'
        ? answer.kind === 'next' && answer.result.data != null && !codes.length
        : codes.length > 0 && codes.every((code) => code === 'NOT_FOUND');
    return accepted ? {} : { problem: `answered a well-formed subscription (${query}) with ${JSON.stringify(answer).slice(0, 500)}, not ${expected}` };
  }

  /** How the socket closes, within ANSWER_TIMEOUT_MS. */
  async closedWithin(): Promise<SocketClose> {
    return eventually('the socket to close', () => this.closedAs, ANSWER_TIMEOUT_MS);
  }

  async dispose(): Promise<void> {
    await this.realtime.dispose().catch(() => undefined);
  }

  /** Waits until one more message keeps the socket within MESSAGES_PER_SECOND in every second. */
  private async pace(): Promise<void> {
    for (;;) {
      const now = Date.now();
      while (this.sentAt.length && now - this.sentAt[0] >= 1_000) this.sentAt.shift();
      if (this.sentAt.length < MESSAGES_PER_SECOND) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000 - (now - this.sentAt[0])));
    }
    this.sentAt.push(Date.now());
  }
}

function answerOfError(error: unknown): SocketAnswer {
  if (Array.isArray(error)) return { kind: 'error', errors: error as GraphQLErrorBody[] };
  // The socket closed under the subscription (graphql-ws hands over the CloseEvent).
  if (error && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'number') return { kind: 'closed', code: (error as { code: number }).code };
  return { kind: 'client', message: error instanceof Error ? error.message : String(error) };
}

/**
 * The fuzz oracle over a subscription's messages: each `next` and `error` only data or typed client
 * errors (no INTERNAL, stacks, database text or source paths); never a 1011 close under it.
 */
export function answerProblems(answers: readonly SocketAnswer[]): { problems: string[]; codes: string[]; resolverReached: boolean } {
  const problems: string[] = [];
  const codes: string[] = [];
  let resolverReached = false;
  for (const answer of answers) {
    if (answer.kind === 'next' || answer.kind === 'error') {
      const verdict = verdictOf(answer.kind === 'next' ? { status: 200, ...answer.result } : { status: 200, errors: answer.errors });
      problems.push(...verdict.problems);
      codes.push(...verdict.codes);
      resolverReached ||= verdict.resolverReached;
    } else if (answer.kind === 'closed') {
      // Counted with the codes, so the summary shows how often the size limit and refused sockets came up.
      codes.push(`socket closed ${answer.code}`);
      if (answer.code === 1011) problems.push('socket closed with 1011 (internal error)');
    } else if (answer.kind === 'client') {
      problems.push(`the client could not send it: ${answer.message}`);
    }
  }
  return { problems, codes, resolverReached };
}

/** The request id of the first INTERNAL error among the answers, whose log lines tell the cause. */
export function internalRequestIdOf(answers: readonly SocketAnswer[]): unknown {
  const errors = answers.flatMap((answer) => (answer.kind === 'next' ? (answer.result.errors ?? []) : answer.kind === 'error' ? answer.errors : []));
  return errors.find((error) => error.extensions?.code === 'INTERNAL')?.extensions?.requestId;
}
