import { Client } from 'pg';
import { LiveClient } from './live-client';
import { Member, Workload } from './workload';

/** One reconciliation: how many were checked, and how many went missing or took effect more than once. */
export interface Check {
  name: string;
  checked: number;
  lost: number;
  duplicated: number;
  /** A few ids of what failed, for the report. */
  examples: string[];
}

interface OutboxEvent {
  schema: string;
  id: string;
  type: string;
  payload: Record<string, unknown>;
  published: boolean;
}

function check(name: string, ids: string[], countOf: (id: string) => number, describe: (id: string) => string = (id) => id): Check {
  const result: Check = { name, checked: ids.length, lost: 0, duplicated: 0, examples: [] };
  for (const id of ids) {
    const count = countOf(id);
    if (count === 1) continue;
    if (count === 0) result.lost += 1;
    else result.duplicated += count - 1;
    if (result.examples.length < 5) result.examples.push(`${describe(id)}: ${count}`);
  }
  return result;
}

function countBy<T>(items: T[], keyOf: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function readEvents(client: Client) {
  const tables: { schema: string; table: string }[] = (
    await client.query(`SELECT table_schema AS schema, table_name AS table FROM information_schema.tables WHERE table_name IN ('outbox', 'inbox')`)
  ).rows;
  const events: OutboxEvent[] = [];
  const inbox: { schema: string; group: string; eventId: string }[] = [];
  for (const { schema, table } of tables) {
    const qualified = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
    if (table === 'outbox') {
      const rows = (await client.query(`SELECT id, event_type, envelope->'payload' AS payload, published_at IS NOT NULL AS published FROM ${qualified}`)).rows;
      events.push(...rows.map((row) => ({ schema, id: row.id, type: row.event_type, payload: row.payload ?? {}, published: row.published })));
    } else {
      const rows = (await client.query(`SELECT consumer_group, event_id FROM ${qualified}`)).rows;
      inbox.push(...rows.map((row) => ({ schema, group: row.consumer_group, eventId: row.event_id })));
    }
  }
  return { events, inbox };
}

/** Outbox rows not yet on Kafka, across every service's schema (the relays should drain them). */
export async function unpublishedEvents(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await readEvents(client)).events.filter((event) => !event.published).length;
  } finally {
    await client.end();
  }
}

/**
 * Every committed write reconciled by id against what the services stored and the sockets
 * received: its event published once and consumed by every consumer group that takes events of
 * its type; each mention one notification row and one delivery on the recipient's live socket;
 * each export and agent run finished once, with one completion event (and, for exports, one
 * notification).
 */
export async function reconcile(options: {
  databaseUrl: string;
  workload: Workload;
  owner: Member;
  live: Map<string, LiveClient>;
  /** When the workload began: times in the examples are counted from it. */
  startedAt: number;
}): Promise<Check[]> {
  const { workload, owner, live } = options;
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    const { events, inbox } = await readEvents(client);
    const notifications: { id: string; recipient: string; type: string; source: string | null; sequence: string; createdAt: Date }[] = (
      await client.query(
        `SELECT id, recipient_id AS recipient, type, source_event_id AS source, sequence, created_at AS "createdAt" FROM notifications.notifications`,
      )
    ).rows;
    const eventsOf = (type: string, key: string) => countBy(events.filter((event) => event.type === type), (event) => String(event.payload[key]));
    const eventIdsOf = (type: string, key: string) => {
      const ids = new Map<string, string[]>();
      for (const event of events.filter((candidate) => candidate.type === type)) {
        const value = String(event.payload[key]);
        ids.set(value, [...(ids.get(value) ?? []), event.id]);
      }
      return ids;
    };
    const checks: Check[] = [];

    // Every event published to Kafka, and consumed once by each group that consumes its type.
    const published = new Map(events.map((event) => [event.id, event.published]));
    checks.push(check('outbox events published to Kafka', [...published.keys()], (id) => (published.get(id) ? 1 : 0)));
    const typeOfEvent = new Map(events.map((event) => [event.id, event.type]));
    const groupTypes = new Map<string, Set<string>>();
    for (const row of inbox) {
      const type = typeOfEvent.get(row.eventId);
      if (!type) continue;
      const key = `${row.schema}/${row.group}`;
      groupTypes.set(key, (groupTypes.get(key) ?? new Set()).add(type));
    }
    const inboxCounts = countBy(inbox, (row) => `${row.schema}/${row.group}/${row.eventId}`);
    for (const [group, types] of [...groupTypes].sort(([a], [b]) => a.localeCompare(b))) {
      const expected = events.filter((event) => types.has(event.type)).map((event) => event.id);
      checks.push(
        check(
          `consumed by ${group}`,
          expected,
          (id) => inboxCounts.get(`${group}/${id}`) ?? 0,
          (id) => `${typeOfEvent.get(id)} ${id}`,
        ),
      );
    }

    // Documents: one document.created event each, taken by the search cache.
    const created = eventIdsOf('document.created', 'documentId');
    checks.push(check('document created -> one event', workload.documentIds, (id) => created.get(id)?.length ?? 0));
    checks.push(
      check('document created -> search consumer', workload.documentIds, (id) =>
        (created.get(id) ?? []).reduce((sum, eventId) => sum + (inboxCounts.get(`content/content.search-cache/${eventId}`) ?? 0), 0),
      ),
    );

    // Mentions: one user.mentioned event, one notification row, one delivery on the live socket.
    const mentioned = eventIdsOf('user.mentioned', 'commentId');
    const commentIds = workload.mentions.map((mention) => mention.commentId);
    checks.push(check('mention -> one user.mentioned event', commentIds, (id) => mentioned.get(id)?.length ?? 0));
    const notificationsBySource = countBy(notifications, (row) => (row.source ? `${row.source}/${row.recipient}` : undefined));
    const recipientOf = new Map(workload.mentions.map((mention) => [mention.commentId, mention.recipient.userId]));
    checks.push(
      check('mention -> one notification', commentIds, (id) =>
        (mentioned.get(id) ?? []).reduce((sum, eventId) => sum + (notificationsBySource.get(`${eventId}/${recipientOf.get(id)}`) ?? 0), 0),
      ),
    );
    const liveMentions = new Map<string, number>();
    for (const [userId, socket] of live) {
      for (const item of socket.received) {
        const commentId = item.link ? new URL(item.link).searchParams.get('comment') : null;
        if (item.type === 'mention' && commentId) liveMentions.set(`${userId}/${commentId}`, (liveMentions.get(`${userId}/${commentId}`) ?? 0) + 1);
      }
    }
    const storedBySource = new Map(notifications.filter((row) => row.source).map((row) => [`${row.source}/${row.recipient}`, row]));
    const describeMention = (id: string) => {
      const recipient = recipientOf.get(id);
      const stored = (mentioned.get(id) ?? []).map((eventId) => storedBySource.get(`${eventId}/${recipient}`)).find((row) => row !== undefined);
      return `${id} to ${recipient}${stored ? ` (sequence ${stored.sequence}, stored +${((stored.createdAt.getTime() - options.startedAt) / 1000).toFixed(1)} s)` : ''}`;
    };
    checks.push(check('mention -> one live socket delivery', commentIds, (id) => liveMentions.get(`${recipientOf.get(id)}/${id}`) ?? 0, describeMention));
    const sequences = countBy(
      [...live].flatMap(([userId, socket]) => socket.received.map((item) => `${userId}/${item.sequence}`)),
      (key) => key,
    );
    checks.push(check('live socket sequences delivered once', [...sequences.keys()], (key) => sequences.get(key) ?? 0));

    // Exports: finished (SUCCEEDED) once, one export.completed event, one export_ready notification and one live delivery to the owner.
    const exportIds = workload.exports.map((requested) => requested.id);
    const exportStatus = new Map(workload.exports.map((requested) => [requested.id, requested.finalStatus]));
    // An export that did not succeed is named with its row's and its job's state: where it stopped.
    const unfinished = exportIds.filter((id) => exportStatus.get(id) !== 'SUCCEEDED');
    const stateOf = new Map<string, string>(
      unfinished.length
        ? (
            await client.query(
              `SELECT e.id, concat_ws(' ', e.status, 'attempts ' || e.attempts, e.error_code, e.progress_message, 'job ' || j.state, 'retries ' || j.retry_count,
                        'job started ' || to_char(j.started_on, 'HH24:MI:SS'), 'heartbeat ' || to_char(j.heartbeat_on, 'HH24:MI:SS'),
                        'every ' || j.heartbeat_seconds || ' s') AS state
               FROM export.exports e LEFT JOIN export_jobs.job j ON j.id::text = e.job_id
               WHERE e.id = ANY($1::uuid[])`,
              [unfinished],
            )
          ).rows.map((row: { id: string; state: string }) => [row.id, row.state])
        : [],
    );
    checks.push(
      check('export -> SUCCEEDED', exportIds, (id) => (exportStatus.get(id) === 'SUCCEEDED' ? 1 : 0), (id) => `${id} (${stateOf.get(id) ?? 'no row'})`),
    );
    const completed = eventIdsOf('export.completed', 'exportId');
    checks.push(check('export -> one export.completed event', exportIds, (id) => completed.get(id)?.length ?? 0));
    checks.push(
      check('export -> one export_ready notification', exportIds, (id) =>
        (completed.get(id) ?? []).reduce((sum, eventId) => sum + (notificationsBySource.get(`${eventId}/${owner.userId}`) ?? 0), 0),
      ),
    );
    const ownerSocket = live.get(owner.userId);
    const liveExports = countBy(ownerSocket?.received.filter((item) => item.type === 'export_ready') ?? [], (item) => item.link?.split('/exports/')[1]);
    checks.push(check('export -> one live socket delivery', exportIds, (id) => liveExports.get(id) ?? 0));

    // Agent runs: finished (a run may fail, e.g. when a fault outlasts its retries: the report lists those), one agent_run.finished event.
    const runIds = workload.runs.map((run) => run.id);
    const runStatus = new Map(workload.runs.map((run) => [run.id, run.finalStatus]));
    // A run that did not finish is named with its row's state, each task's and the task's jobs', and the recovery pass's latest runs: where it stopped.
    const unfinishedRuns = runIds.filter((id) => runStatus.get(id) !== 'COMPLETED' && runStatus.get(id) !== 'FAILED');
    const runStateOf = new Map<string, string>(
      unfinishedRuns.length
        ? (
            await client.query(
              `SELECT r.id, concat_ws(' ', r.status, 'created ' || to_char(r.created_at, 'HH24:MI:SS'),
                        (SELECT string_agg(concat_ws(' ', 'task ' || t.status, 'attempt ' || t.attempt, 'lease until ' || to_char(t.lease_until, 'HH24:MI:SS'),
                                  'not before ' || to_char(t.not_before, 'HH24:MI:SS'),
                                  (SELECT 'jobs ' || string_agg(concat_ws(' ', j.state, 'retries ' || j.retry_count, 'created ' || to_char(j.created_on, 'HH24:MI:SS'),
                                                                'started ' || to_char(j.started_on, 'HH24:MI:SS')), ', ' ORDER BY j.created_on)
                                     FROM agents_jobs.job j WHERE j.name = 'agents.task' AND j.singleton_key = t.id::text)), '; ')
                           FROM agents.agent_tasks t WHERE t.run_id = r.id),
                        (SELECT 'recovery runs ' || string_agg(concat_ws(' ', j.state, 'created ' || to_char(j.created_on, 'HH24:MI:SS'), 'started ' || to_char(j.started_on, 'HH24:MI:SS'),
                                                                  'ended ' || to_char(j.completed_on, 'HH24:MI:SS')), ', ' ORDER BY j.created_on)
                           FROM (SELECT * FROM agents_jobs.job WHERE name = 'agents.task-recovery' AND state IN ('active', 'failed') ORDER BY created_on DESC LIMIT 5) j)) AS state
               FROM agents.agent_runs r WHERE r.id = ANY($1::uuid[])`,
              [unfinishedRuns],
            )
          ).rows.map((row: { id: string; state: string }) => [row.id, row.state])
        : [],
    );
    checks.push(
      check(
        'agent run -> finished',
        runIds,
        (id) => (runStatus.get(id) === 'COMPLETED' || runStatus.get(id) === 'FAILED' ? 1 : 0),
        (id) => `${id} (${runStateOf.get(id) ?? 'no row'})`,
      ),
    );
    const finished = eventsOf('agent_run.finished', 'runId');
    checks.push(check('agent run -> one agent_run.finished event', runIds, (id) => finished.get(id) ?? 0));

    // Notifications: no event caused two notifications for the same person.
    const sources = [...new Set(notifications.filter((row) => row.source).map((row) => `${row.source}/${row.recipient}`))];
    checks.push(check('notification per (event, recipient)', sources, (key) => notificationsBySource.get(key) ?? 0));
    return checks;
  } finally {
    await client.end();
  }
}
