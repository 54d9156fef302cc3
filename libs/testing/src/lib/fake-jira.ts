import { createHmac } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface FakeJiraAccount {
  email: string;
  apiToken: string;
  displayName: string;
  accountId: string;
}

export interface FakeJiraIssue {
  id: string;
  key: string;
  /** As created (project, issuetype, summary, description, labels, parent, custom fields), plus status. */
  fields: Record<string, unknown> & { summary: string; labels: string[]; status: { name: string } };
  createdBy: string;
}

export interface FakeJiraRequest {
  method: string;
  path: string;
  /** The signed-in account's email; null when unauthenticated. */
  account: string | null;
  status: number;
  at: number;
  body: unknown;
}

export interface FakeJiraWebhookEvent {
  issueKey: string;
  status: string;
  previousStatus?: string;
}

export interface FakeJiraOptions {
  /** Token bucket per account: refill rate and capacity (default 50 a second). */
  requestsPerSecond?: number;
}

export interface FakeJira {
  /** http://127.0.0.1:<port>, the site's base URL (what jira.js calls `host`). */
  url: string;
  addAccount(account: { email: string; apiToken: string; displayName: string }): FakeJiraAccount;
  /** The next `count` API requests answer `status` (a 5xx blip by default). */
  failNext(count: number, status?: number): void;
  /** Every API request answers 429 for `ms`. */
  rateLimitStorm(ms: number): void;
  /** Bulk entries whose summary matches fail as partial failures, `times` times in all (default: always). */
  rejectSummaries(pattern: RegExp, times?: number): void;
  /** Every request answered, in order. */
  requests: FakeJiraRequest[];
  /** Created issues by key, in creation order. */
  issues: Map<string, FakeJiraIssue>;
  /** POSTs a signed `jira:issue_updated` webhook to `url`; answers the receiver's status and body. */
  sendWebhook(url: string, options: { secret: string; identifier: string; event: FakeJiraWebhookEvent; signature?: string }): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/** JIRA's error body: messages about the request, or field id → problem. */
function errorBody(errorMessages: string[], errors: Record<string, string> = {}) {
  return { errorMessages, errors };
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const ISSUE_TYPES = new Map([
  ['10001', { id: '10001', name: 'Task', subtask: false }],
  ['10002', { id: '10002', name: 'Bug', subtask: false }],
  ['10003', { id: '10003', name: 'Story', subtask: false }],
  ['10004', { id: '10004', name: 'Sub-task', subtask: true }],
]);

const BULK_LIMIT = 50;

function isAdfDocument(value: unknown): boolean {
  const doc = value as { type?: unknown; version?: unknown; content?: unknown };
  return typeof doc === 'object' && doc !== null && doc.type === 'doc' && doc.version === 1 && Array.isArray(doc.content);
}

/** Clauses the fake understands, AND-combined: `labels = "x"`, `labels in ("a","b")`, `project = KEY`. */
function parseJql(jql: string): ((issue: FakeJiraIssue) => boolean)[] {
  const unquote = (value: string) => value.trim().replace(/^"(.*)"$/, '$1');
  return jql
    .trim()
    .split(/\s+AND\s+/i)
    .map((clause) => {
      const labelsIn = /^labels\s+in\s*\((.*)\)$/i.exec(clause.trim());
      if (labelsIn) {
        const wanted = labelsIn[1].split(',').map(unquote);
        return (issue: FakeJiraIssue) => issue.fields.labels.some((label) => wanted.includes(label));
      }
      const labelIs = /^labels\s*=\s*("[^"]*"|\S+)$/i.exec(clause.trim());
      if (labelIs) return (issue: FakeJiraIssue) => issue.fields.labels.includes(unquote(labelIs[1]));
      const projectIs = /^project\s*=\s*("[^"]*"|\S+)$/i.exec(clause.trim());
      if (projectIs) return (issue: FakeJiraIssue) => (issue.fields.project as { key: string }).key === unquote(projectIs[1]);
      throw new HttpProblem(400, errorBody([`Error in the JQL Query: the clause '${clause}' is not understood.`]));
    });
}

/**
 * A JIRA Cloud site for tests, speaking REST API v3 as jira.js calls it: basic auth with email and
 * API token, /myself, single and bulk issue creation (≤ 50, with JIRA's partial success), enhanced
 * JQL search (/search/jql) on labels and project, issue reads, a token bucket per account with
 * JIRA's rate limit headers, injected faults, and signed outbound webhooks.
 */
export async function startFakeJira(options: FakeJiraOptions = {}): Promise<FakeJira> {
  const rate = options.requestsPerSecond ?? 50;
  const accounts = new Map<string, FakeJiraAccount>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const issues = new Map<string, FakeJiraIssue>();
  const requests: FakeJiraRequest[] = [];
  const counters = new Map<string, number>();
  let nextIssueId = 10_000;
  let failures: { remaining: number; status: number } = { remaining: 0, status: 503 };
  let stormUntil = 0;
  const rejections: { pattern: RegExp; remaining: number }[] = [];

  function takeToken(email: string): { allowed: boolean; remaining: number; retryAfterSeconds: number; resetAt: Date } {
    const now = Date.now();
    const bucket = buckets.get(email) ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    buckets.set(email, bucket);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const secondsToFull = (rate - bucket.tokens) / rate;
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)),
      resetAt: new Date(now + secondsToFull * 1000),
    };
  }

  function authenticate(req: IncomingMessage): FakeJiraAccount | null {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return null;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    const account = accounts.get(decoded.slice(0, separator).toLowerCase());
    return account && account.apiToken === decoded.slice(separator + 1) ? account : null;
  }

  function validateFields(raw: unknown, account: FakeJiraAccount): { fields?: FakeJiraIssue['fields']; errors?: Record<string, string> } {
    const errors: Record<string, string> = {};
    const fields = (raw as { fields?: Record<string, unknown> })?.fields;
    if (typeof fields !== 'object' || fields === null) return { errors: { fields: 'fields is required' } };
    const project = fields.project as { key?: unknown; id?: unknown } | undefined;
    if (!project || (typeof project.key !== 'string' && typeof project.id !== 'string') || (typeof project.key === 'string' && !/^[A-Z][A-Z0-9_]*$/.test(project.key))) {
      errors.project = 'valid project is required';
    }
    const issueType = fields.issuetype as { id?: unknown; name?: unknown } | undefined;
    const type = [...ISSUE_TYPES.values()].find((candidate) => candidate.id === issueType?.id || candidate.name === issueType?.name);
    if (!type) errors.issuetype = 'valid issue type is required';
    const summary = fields.summary;
    if (typeof summary !== 'string' || summary.trim().length === 0) errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(summary)) errors.summary = 'The summary is invalid because it contains newline characters.';
    if (fields.description !== undefined && fields.description !== null && !isAdfDocument(fields.description)) {
      errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format).';
    }
    const labels = fields.labels ?? [];
    if (!Array.isArray(labels) || labels.some((label) => typeof label !== 'string' || label.length === 0 || label.length > 255 || /\s/.test(label))) {
      errors.labels = 'The label must not contain spaces and must be at most 255 characters.';
    }
    const parentKey = (fields.parent as { key?: unknown } | undefined)?.key;
    if (type?.subtask) {
      if (!parentKey) errors.parent = 'Sub-tasks must have a parent.';
      else if (typeof parentKey !== 'string' || !issues.has(parentKey)) errors.parent = 'Could not find issue by id or key.';
    } else if (fields.parent !== undefined) {
      errors.parent = 'Only sub-tasks have a parent.';
    }
    if (Object.keys(errors).length === 0 && typeof summary === 'string') {
      const rejection = rejections.find((candidate) => candidate.remaining > 0 && candidate.pattern.test(summary));
      if (rejection) {
        rejection.remaining -= 1;
        errors.summary = 'The summary was refused by a field validator.';
      }
    }
    if (Object.keys(errors).length || !project || !type) return { errors };
    return {
      fields: {
        ...fields,
        project: { key: typeof project.key === 'string' ? project.key : `P${String(project.id)}` },
        issuetype: { id: type.id, name: type.name, subtask: type.subtask },
        summary: summary as string,
        labels: labels as string[],
        status: { name: 'To Do' },
        reporter: { accountId: account.accountId },
      },
    };
  }

  function create(fields: FakeJiraIssue['fields'], account: FakeJiraAccount): { id: string; key: string; self: string } {
    const project = (fields.project as { key: string }).key;
    const number = (counters.get(project) ?? 0) + 1;
    counters.set(project, number);
    const issue: FakeJiraIssue = { id: String(nextIssueId++), key: `${project}-${number}`, fields, createdBy: account.email };
    issues.set(issue.key, issue);
    return { id: issue.id, key: issue.key, self: `${fake.url}/rest/api/3/issue/${issue.id}` };
  }

  function pick(issue: FakeJiraIssue, fields: string[] | undefined) {
    const wanted = fields ?? ['id'];
    const all = wanted.includes('*all') || wanted.includes('*navigable');
    const picked = Object.fromEntries(Object.entries(issue.fields).filter(([name]) => all || wanted.includes(name)));
    return { id: issue.id, key: issue.key, self: `${fake.url}/rest/api/3/issue/${issue.id}`, fields: picked };
  }

  function search(jql: string, maxResults: unknown, nextPageToken: unknown, fields: string[] | undefined) {
    if (!jql) throw new HttpProblem(400, errorBody(['The JQL query is required.']));
    const filters = parseJql(jql);
    const matching = [...issues.values()].filter((issue) => filters.every((filter) => filter(issue)));
    const pageSize = Math.min(Math.max(Number(maxResults ?? 50) || 50, 1), 100);
    const offset = typeof nextPageToken === 'string' && nextPageToken ? Number(Buffer.from(nextPageToken, 'base64url').toString()) : 0;
    const page = matching.slice(offset, offset + pageSize);
    const more = offset + pageSize < matching.length;
    return {
      issues: page.map((issue) => pick(issue, fields)),
      isLast: !more,
      ...(more ? { nextPageToken: Buffer.from(String(offset + pageSize)).toString('base64url') } : {}),
    };
  }

  function route(method: string, path: string, query: URLSearchParams, body: unknown, account: FakeJiraAccount): { status: number; body: unknown } {
    if (method === 'GET' && path === '/rest/api/3/myself') {
      return {
        status: 200,
        body: { accountId: account.accountId, emailAddress: account.email, displayName: account.displayName, active: true, accountType: 'atlassian', self: `${fake.url}/rest/api/3/user?accountId=${account.accountId}` },
      };
    }
    if (method === 'POST' && path === '/rest/api/3/issue/bulk') {
      const updates = (body as { issueUpdates?: unknown })?.issueUpdates;
      if (!Array.isArray(updates) || updates.length === 0) throw new HttpProblem(400, errorBody(['issueUpdates is required.']));
      if (updates.length > BULK_LIMIT) throw new HttpProblem(400, errorBody([`Bulk create is limited to ${BULK_LIMIT} issues; ${updates.length} were sent.`]));
      const created: { id: string; key: string; self: string }[] = [];
      const errors: { status: number; elementErrors: { errorMessages: string[]; errors: Record<string, string> }; failedElementNumber: number }[] = [];
      updates.forEach((update, index) => {
        const checked = validateFields(update, account);
        if (checked.fields) created.push(create(checked.fields, account));
        else errors.push({ status: 400, elementErrors: errorBody([], checked.errors), failedElementNumber: index });
      });
      return { status: created.length ? 201 : 400, body: { issues: created, errors } };
    }
    if (method === 'POST' && path === '/rest/api/3/issue') {
      const checked = validateFields(body, account);
      if (!checked.fields) throw new HttpProblem(400, errorBody([], checked.errors));
      return { status: 201, body: create(checked.fields, account) };
    }
    if (path === '/rest/api/3/search/jql' && (method === 'GET' || method === 'POST')) {
      const input = method === 'GET'
        ? { jql: query.get('jql') ?? '', maxResults: query.get('maxResults'), nextPageToken: query.get('nextPageToken'), fields: query.get('fields')?.split(',') }
        : (body as { jql?: string; maxResults?: number; nextPageToken?: string; fields?: string[] });
      return { status: 200, body: search(input.jql ?? '', input.maxResults, input.nextPageToken, input.fields) };
    }
    const issuePath = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(path);
    if (method === 'GET' && issuePath) {
      const key = decodeURIComponent(issuePath[1]);
      const issue = issues.get(key) ?? [...issues.values()].find((candidate) => candidate.id === key);
      if (!issue) throw new HttpProblem(404, errorBody(['Issue does not exist or you do not have permission to see it.']));
      return { status: 200, body: pick(issue, ['*all']) };
    }
    throw new HttpProblem(404, errorBody([`No route for ${method} ${path}.`]));
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://fake-jira');
    const method = req.method ?? 'GET';
    const account = authenticate(req);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      let parsed: unknown = raw;
      try {
        parsed = raw ? JSON.parse(raw) : undefined;
      } catch {
        // The log keeps what was sent.
      }
      requests.push({ method, path: url.pathname, account: account?.email ?? null, status, at: Date.now(), body: parsed });
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (!account) {
      send(401, errorBody(['Client must be authenticated to access this resource.']), {
        'www-authenticate': 'Basic realm="protected-area"',
        'x-ratelimit-limit': String(rate),
        'x-ratelimit-remaining': String(rate),
        'x-ratelimit-reset': new Date().toISOString(),
      });
      return;
    }
    const token = takeToken(account.email);
    const limitHeaders = { 'x-ratelimit-limit': String(rate), 'x-ratelimit-remaining': String(token.remaining), 'x-ratelimit-reset': token.resetAt.toISOString() };
    if (Date.now() < stormUntil || !token.allowed) {
      const retryAfter = Date.now() < stormUntil ? Math.max(1, Math.ceil((stormUntil - Date.now()) / 1000)) : token.retryAfterSeconds;
      send(429, errorBody(['Rate limit exceeded.']), { ...limitHeaders, 'x-ratelimit-remaining': '0', 'retry-after': String(retryAfter) });
      return;
    }
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      send(failures.status, errorBody(['Internal server error.']), limitHeaders);
      return;
    }
    try {
      let body: unknown;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpProblem(400, errorBody(['Unexpected character in the request body: not JSON.']));
        }
      }
      const answer = route(method, url.pathname, url.searchParams, body, account);
      send(answer.status, answer.body, limitHeaders);
    } catch (error) {
      if (error instanceof HttpProblem) send(error.status, error.body, limitHeaders);
      else send(500, errorBody([(error as Error).message]), limitHeaders);
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const fake: FakeJira = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    issues,
    addAccount(account) {
      const added = { ...account, email: account.email.toLowerCase(), accountId: `5b10ac8d82e05b22cc7d${String(accounts.size).padStart(4, '0')}` };
      accounts.set(added.email, added);
      return added;
    },
    failNext(count, status = 503) {
      failures = { remaining: count, status };
    },
    rateLimitStorm(ms) {
      stormUntil = Date.now() + ms;
    },
    rejectSummaries(pattern, times = Number.POSITIVE_INFINITY) {
      rejections.push({ pattern, remaining: times });
    },
    async sendWebhook(target, { secret, identifier, event, signature }) {
      const issue = issues.get(event.issueKey);
      const previousStatus = event.previousStatus ?? issue?.fields.status.name ?? 'To Do';
      if (issue) issue.fields.status = { name: event.status };
      const body = JSON.stringify({
        timestamp: Date.now(),
        webhookEvent: 'jira:issue_updated',
        issue_event_type_name: 'issue_generic',
        user: { accountId: 'fake-jira-automation', displayName: 'Automation for Jira' },
        issue: {
          id: issue?.id ?? '0',
          key: event.issueKey,
          self: `${fake.url}/rest/api/3/issue/${issue?.id ?? event.issueKey}`,
          fields: { summary: issue?.fields.summary ?? '', labels: issue?.fields.labels ?? [], status: { name: event.status } },
        },
        changelog: { id: String(Date.now()), items: [{ field: 'status', fieldtype: 'jira', fromString: previousStatus, toString: event.status }] },
      });
      const response = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-atlassian-webhook-identifier': identifier,
          'x-hub-signature': signature ?? `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          'user-agent': 'Atlassian Webhook HTTP Client',
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, body: await response.text() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
