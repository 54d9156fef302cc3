import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { GraphQLResult, graphql, graphqlData } from '@multipult/testing';

export const OPERATION_KINDS = ['signup', 'login', 'document', 'search', 'comment', 'export', 'agentRun', 'revocation', 'status'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** One request (or, for a revocation, its sequence of requests) the workload made, and how it went. */
export interface Operation {
  kind: OperationKind;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** What went wrong, as the client saw it: the GraphQL error code, the HTTP status or the network failure. */
  errorType?: string;
}

export interface Member {
  userId: string;
  username: string;
  session: Session;
}

/** Seconds until the access token expires, and its whole lifetime. */
function lifetimeOf(accessToken: string): { left: number; total: number } {
  const { exp = 0, iat = 0 } = decodeJwt(accessToken);
  return { left: exp - Date.now() / 1000, total: exp - iat };
}

/**
 * A signed-in user's tokens, renewed before the access token expires as an app renews them: the
 * refresh token (rotated, so one renewal at a time) mints a new pair, which then acts in the tenant
 * again. A refused refresh token (one rotated by a renewal whose answer was lost in a fault, which
 * reuse detection then rejects) signs the user in again with their password, as an app asks its user to.
 */
export class Session {
  renewals = 0;
  /** Renewals whose refresh token was refused, so the user signed in again. */
  signInsAgain = 0;
  private renewing?: Promise<string>;

  constructor(
    private readonly gatewayUrl: string,
    private readonly tenantId: string,
    private readonly email: string,
    private accessToken: string,
    private refreshToken: string,
  ) {}

  async token(): Promise<string> {
    // Renewed in the last quarter of its lifetime (a run may outlast ACCESS_TOKEN_TTL_SECONDS, at most an hour).
    const { left, total } = lifetimeOf(this.accessToken);
    if (left > total / 4) return this.accessToken;
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renew(): Promise<string> {
    try {
      const renewed = await graphql<{ refreshTokens: { accessToken: string; refreshToken: string } }>(this.gatewayUrl, REFRESH, {
        variables: { input: { refreshToken: this.refreshToken } },
      });
      let pair = renewed.data?.refreshTokens;
      if (!pair && failureOf(renewed) === 'UNAUTHENTICATED') {
        pair = (await graphqlData<{ login: { accessToken: string; refreshToken: string } }>(this.gatewayUrl, LOGIN, { variables: { input: { email: this.email, password: PASSWORD } } })).login;
        this.signInsAgain += 1;
      }
      if (!pair) throw new OperationFailed(failureOf(renewed) ?? 'no data');
      this.refreshToken = pair.refreshToken;
      this.accessToken = await actIn(this.gatewayUrl, pair.accessToken, this.tenantId);
      this.renewals += 1;
    } catch (error) {
      // A renewal failing during a fault is tried again on the next call; the old token serves while it lasts.
      if (lifetimeOf(this.accessToken).left <= 0) throw error;
    }
    return this.accessToken;
  }
}

async function actIn(gatewayUrl: string, accessToken: string, tenantId: string): Promise<string> {
  const { switchTenant } = await graphqlData<{ switchTenant: { accessToken: string } }>(
    gatewayUrl,
    `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
    { token: accessToken, variables: { input: { tenantId } } },
  );
  return switchTenant.accessToken;
}

export interface CommittedMention {
  commentId: string;
  recipient: Member;
}

export interface RequestedExport {
  id: string;
  requestedAt: number;
  finalStatus?: string;
  completedAt?: number;
}

export interface StartedRun {
  id: string;
  finalStatus?: string;
  /** Why it failed, as the run reports it. */
  error?: string | null;
}

export interface Revocation {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  /** Whether the token was still accepted right after its session was revoked (an invariant violation). */
  usableAfterRevocation: boolean;
}

export const PASSWORD = 'a long soak passphrase 7';
/**
 * How long an export or agent run may take to finish once requested. The slowest recovery the
 * platform documents fits with a margin: a job orphaned by a database restart (its worker could not
 * record the outcome) is retried once its heartbeat (30 s) has gone stale and a supervise pass
 * (every 60 s) has seen it, after its retry backoff, while the tenant's later exports wait for its slot.
 */
const FINISH_WITHIN_MS = 300_000;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }`;
const SESSIONS = `{ mySessions { id current } }`;
const REVOKE = `mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { revokedSessionId } }`;
const REFRESH = `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken refreshToken } }`;
const ME = `{ me { id } }`;
const CREATE_DOCUMENT = `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`;
const PUBLISH_DOCUMENT = `mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`;
const SEARCH = `query($input: SearchDocumentsInput!) { searchDocuments(input: $input) { totalCount } }`;
const ADD_COMMENT = `mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`;
const REQUEST_EXPORT = `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { id status } } }`;
const EXPORT_STATUS = `query($id: ID!) { export(id: $id) { status } }`;
const START_RUN = `mutation($input: StartAgentRunInput!) { startAgentRun(input: $input) { run { id } } }`;
const RUN_STATUS = `query($id: ID!) { agentRun(id: $id) { status error } }`;
const EXPORT_FINISHED = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'];
const RUN_FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED'];

class OperationFailed extends Error {
  constructor(readonly errorType: string) {
    super(errorType);
  }
}

function failureOf(result: GraphQLResult<unknown>): string | undefined {
  const code = result.errors?.[0]?.extensions?.code;
  if (code) return String(code);
  if (result.status >= 400) return `HTTP ${result.status}`;
  if (!result.data) return 'no data';
  return undefined;
}

function errorTypeOf(error: unknown): string {
  if (error instanceof OperationFailed) return error.errorType;
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).name ?? 'unknown';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The soak's users and what they did: every request goes through the gateway, every write that
 * committed is remembered by id for the reconciliation afterwards.
 */
export class Workload {
  readonly operations: Operation[] = [];
  readonly accounts: { email: string }[] = [];
  readonly documentIds: string[] = [];
  readonly mentions: CommittedMention[] = [];
  readonly exports: RequestedExport[] = [];
  readonly runs: StartedRun[] = [];
  readonly revocations: Revocation[] = [];
  /** Follow-ups still running (exports and runs polled to their end). */
  private readonly pending = new Set<Promise<void>>();
  private counter = 0;

  constructor(
    private readonly gatewayUrl: string,
    private readonly owner: Member,
    private readonly members: Member[],
    private readonly threadIds: string[],
    private readonly agentId: string,
    private readonly stamp: string,
  ) {}

  /** Times one request or sequence of requests as an operation of `kind`; answers its result, or undefined when it failed. */
  private async timed<T>(kind: OperationKind, work: () => Promise<T>): Promise<T | undefined> {
    const startedAt = Date.now();
    try {
      const value = await work();
      this.operations.push({ kind, startedAt, endedAt: Date.now(), ok: true });
      return value;
    } catch (error) {
      this.operations.push({ kind, startedAt, endedAt: Date.now(), ok: false, errorType: errorTypeOf(error) });
      return undefined;
    }
  }

  /** One request as a member (the owner by default), with an access token of its own, or anonymously (`null`). */
  private async call<T>(query: string, variables: Record<string, unknown>, as: Member | string | null = this.owner): Promise<T> {
    const token = typeof as === 'string' ? as : as ? await as.session.token() : undefined;
    const result = await graphql<T>(this.gatewayUrl, query, { variables, token });
    const failure = failureOf(result);
    if (failure) throw new OperationFailed(failure);
    return result.data as T;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(Math.random() * items.length)];
  }

  run(kind: Exclude<OperationKind, 'status'>): Promise<unknown> {
    if ((kind === 'login' || kind === 'revocation') && this.accounts.length === 0) kind = 'signup';
    if (kind === 'export' && this.documentIds.length === 0) kind = 'document';
    switch (kind) {
      case 'signup':
        return this.signup();
      case 'login':
        return this.timed('login', () => this.call(LOGIN, { input: { email: this.pick(this.accounts).email, password: PASSWORD } }, null));
      case 'document':
        return this.createDocument();
      case 'search':
        return this.timed('search', () => this.call(SEARCH, { input: { query: `soak${Math.floor(Math.random() * Math.max(1, this.counter))}${this.stamp}` } }));
      case 'comment':
        return this.comment();
      case 'export':
        return this.requestExport();
      case 'agentRun':
        return this.startRun();
      case 'revocation':
        return this.revokeSession();
    }
  }

  private signup() {
    const name = `s${this.stamp}_${this.counter++}`;
    const email = `${name}@soak.example`;
    return this.timed('signup', async () => {
      await this.call(REGISTER, { input: { email, username: name, password: PASSWORD, displayName: name } }, null);
      this.accounts.push({ email });
    });
  }

  private createDocument() {
    const word = `soak${this.counter++}${this.stamp}`;
    return this.timed('document', async () => {
      const created = await this.call<{ createDocument: { document: { id: string } } }>(
        CREATE_DOCUMENT,
        { input: { title: `Soak ${word}`, body: `Written during the soak: ${word} ${randomUUID()}`, type: 'ARTICLE', language: 'en' } },
      );
      this.documentIds.push(created.createDocument.document.id);
    });
  }

  private comment() {
    const recipient = this.pick(this.members);
    return this.timed('comment', async () => {
      const added = await this.call<{ addComment: { comment: { id: string } } }>(
        ADD_COMMENT,
        { input: { documentId: this.pick(this.threadIds), body: `Soak note ${this.counter++} for @${recipient.username}` } },
      );
      this.mentions.push({ commentId: added.addComment.comment.id, recipient });
    });
  }

  private requestExport() {
    const documentId = this.pick(this.documentIds.slice(-20));
    return this.timed('export', async () => {
      const requested = await this.call<{ requestExport: { export: { id: string } } }>(
        REQUEST_EXPORT,
        { input: { format: 'PDF', selection: { documentIds: [documentId] } } },
      );
      const requestedExport: RequestedExport = { id: requested.requestExport.export.id, requestedAt: Date.now() };
      this.exports.push(requestedExport);
      this.follow(async () => {
        requestedExport.finalStatus = await this.pollStatus(EXPORT_STATUS, requestedExport.id, (data: { export: { status: string } }) => data.export.status, EXPORT_FINISHED);
        requestedExport.completedAt = Date.now();
      });
    });
  }

  private startRun() {
    return this.timed('agentRun', async () => {
      const started = await this.call<{ startAgentRun: { run: { id: string } } }>(START_RUN, { input: { agentId: this.agentId, prompt: `Soak task ${this.counter++}` } });
      const run: StartedRun = { id: started.startAgentRun.run.id };
      this.runs.push(run);
      this.follow(async () => {
        run.finalStatus = await this.pollStatus(RUN_STATUS, run.id, (data: { agentRun: { status: string; error: string | null } }) => {
          run.error = data.agentRun.error;
          return data.agentRun.status;
        }, RUN_FINISHED);
      });
    });
  }

  /** A second device signs in, finds the first device's session and revokes it; the first device's token must then be refused. */
  private revokeSession() {
    const { email } = this.pick(this.accounts);
    return this.timed('revocation', async () => {
      const first = await this.call<{ login: { accessToken: string; refreshToken: string } }>(LOGIN, { input: { email, password: PASSWORD } }, null);
      const second = await this.call<{ login: { accessToken: string } }>(LOGIN, { input: { email, password: PASSWORD } }, null);
      const sessions = await this.call<{ mySessions: { id: string; current: boolean }[] }>(SESSIONS, {}, first.login.accessToken);
      const sessionId = sessions.mySessions.find((session) => session.current)?.id;
      if (!sessionId) throw new OperationFailed('no current session listed');
      await this.call(REVOKE, { input: { sessionId } }, second.login.accessToken);
      const revocation: Revocation = { sessionId, accessToken: first.login.accessToken, refreshToken: first.login.refreshToken, usableAfterRevocation: false };
      revocation.usableAfterRevocation = await this.usable(revocation);
      this.revocations.push(revocation);
    });
  }

  /** Whether a revoked session still works: its access token answers `me`, or its refresh token mints a new one. */
  async usable(revocation: Revocation): Promise<boolean> {
    const me = await graphql(this.gatewayUrl, ME, { token: revocation.accessToken });
    const refreshed = await graphql(this.gatewayUrl, REFRESH, { variables: { input: { refreshToken: revocation.refreshToken } } });
    const refused = (result: GraphQLResult<unknown>) => result.status === 401 || result.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED';
    if (!refused(me) && !me.errors?.length) return true;
    if (!refused(refreshed) && !refreshed.errors?.length) return true;
    if (!refused(me) || !refused(refreshed)) throw new OperationFailed(`revoked session check answered ${failureOf(refused(me) ? refreshed : me)}`);
    return false;
  }

  private follow(work: () => Promise<void>): void {
    const promise = work().finally(() => this.pending.delete(promise));
    this.pending.add(promise);
  }

  /** Polls a status (each poll an operation of its own, 1 s apart, then slower up to 5 s) until it is final; gives up after 3 minutes. */
  private async pollStatus<T>(query: string, id: string, statusOf: (data: T) => string, finished: string[]): Promise<string | undefined> {
    const deadline = Date.now() + FINISH_WITHIN_MS;
    for (let poll = 1; Date.now() < deadline; poll += 1) {
      await sleep(Math.min(poll, 5) * 1_000);
      const data = await this.timed('status', () => this.call<T>(query, { id }));
      const status = data ? statusOf(data) : undefined;
      if (status && finished.includes(status)) return status;
    }
    return undefined;
  }

  /** Resolves once every export and run followed has ended (or its polling gave up). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}

/** The owner of the soak's tenant, its members (each mentionable by username) and the threads they are mentioned in. */
export async function setUpTenant(gatewayUrl: string, stamp: string, memberCount: number) {
  const register = async (name: string) => {
    const data = await graphqlData<{ register: { accessToken: string; refreshToken: string; user: { id: string } } }>(gatewayUrl, REGISTER, {
      variables: { input: { email: `${name}@soak.example`, username: name, password: PASSWORD, displayName: name } },
    });
    return { userId: data.register.user.id, username: name, accessToken: data.register.accessToken, refreshToken: data.register.refreshToken };
  };
  const ownerAccount = await register(`owner_${stamp}`);
  const tenant = await graphqlData<{ createTenant: { tenant: { id: string } } }>(
    gatewayUrl,
    `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }`,
    { token: ownerAccount.accessToken, variables: { input: { name: 'Soak', slug: `soak-${stamp}` } } },
  );
  const tenantId = tenant.createTenant.tenant.id;
  const memberOf = async (account: Awaited<ReturnType<typeof register>>): Promise<Member> => ({
    userId: account.userId,
    username: account.username,
    session: new Session(gatewayUrl, tenantId, `${account.username}@soak.example`, await actIn(gatewayUrl, account.accessToken, tenantId), account.refreshToken),
  });
  const owner = await memberOf(ownerAccount);
  const ownerToken = await owner.session.token();
  const members: Member[] = [];
  for (let index = 0; index < memberCount; index += 1) {
    const account = await register(`m${index}_${stamp}`);
    await graphqlData(gatewayUrl, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`, {
      token: ownerToken,
      variables: { input: { email: `${account.username}@soak.example`, role: 'member' } },
    });
    members.push(await memberOf(account));
  }
  const threadIds: string[] = [];
  for (let index = 0; index < 3; index += 1) {
    const created = await graphqlData<{ createDocument: { document: { id: string } } }>(gatewayUrl, CREATE_DOCUMENT, {
      token: ownerToken,
      variables: { input: { title: `Soak thread ${index}`, body: 'Where the mentions happen.', type: 'ARTICLE', language: 'en' } },
    });
    const id = created.createDocument.document.id;
    await graphqlData(gatewayUrl, PUBLISH_DOCUMENT, { token: ownerToken, variables: { input: { id } } });
    threadIds.push(id);
  }
  const agent = await graphqlData<{ createAgent: { agent: { id: string } } }>(
    gatewayUrl,
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`,
    { token: ownerToken, variables: { input: { name: `soak agent ${stamp}`, model: 'fake/soak' } } },
  );
  return { owner, members, threadIds, agentId: agent.createAgent.agent.id };
}
